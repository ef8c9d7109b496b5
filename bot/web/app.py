"""The web service: demo site, chat widget files, support console.

Run: `uvicorn --factory bot.web.app:create_app`.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import jwt
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.console.routes import NotLoggedIn, build_router

from bot.settings import Settings, get_settings

STATIC = Path(__file__).with_name("static")
DEMO_PAGE = Path(__file__).with_name("templates") / "demo.html"


def demo_token(settings: Settings, customer_code: str) -> Optional[str]:
    """What the utility's customer area would put in the page for a logged-in customer."""
    if not settings.customer_area_jwt_secret:
        return None
    claims = {"sub": customer_code, "exp": datetime.now(timezone.utc) + timedelta(hours=1)}
    return jwt.encode(claims, settings.customer_area_jwt_secret, algorithm="HS256")


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Assistente clienti: sito dimostrativo", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/widget", StaticFiles(directory=STATIC), name="widget")
    app.include_router(build_router(settings))

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(_: Request, exc: NotLoggedIn) -> object:
        if exc.wants_html:
            return RedirectResponse("/console/login", status_code=303)
        return JSONResponse({"error": "login required"}, status_code=401)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def demo(login: Optional[str] = Query(None, pattern=r"^\d{6}$",
                                          description="demo of a customer-area login: the customer code")) -> str:
        config = {"socketUrl": settings.rasa_public_url}
        if login:
            config["token"] = demo_token(settings, login)
        page = DEMO_PAGE.read_text(encoding="utf-8")
        banner = (f"Demo: accesso all'Area Clienti come cliente {html.escape(login)}." if login and config.get("token")
                  else "Demo: visitatore non autenticato.")
        return (page.replace("__CONFIG__", json.dumps(config).replace("</", "<\\/"))
                    .replace("__BANNER__", banner))

    return app
