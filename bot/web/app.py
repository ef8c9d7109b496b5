"""The web service: demo site, chat widget files, support console.

Run: `uvicorn --factory bot.web.app:create_app`.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot import customer_area, formatters
from bot.billing.client import BillingClient, BillingError, BillingUnavailable
from bot.console.routes import NotLoggedIn, build_router, install_security_headers
from bot.settings import Settings, get_settings
from bot.web.assets import Assets

STATIC = Path(__file__).with_name("static")
DEMO_PAGE = Path(__file__).with_name("templates") / "demo.html"
# what the loader (widget.js) loads; its source names them so, the service writes the hashed names in
WIDGET_FILES = {"css": "widget.css", "socketio": "vendor/socket.io-4.7.5.min.js"}


def widget_loader(name: str, assets: Assets) -> str | None:
    """widget.js with the hashed names of the files it loads (None for every other file)."""
    if name != "widget.js":
        return None
    text = (STATIC / name).read_text(encoding="utf-8")
    plain = json.dumps(WIDGET_FILES)
    if plain not in text:
        raise RuntimeError(f"widget.js must contain the line 'var ASSETS = {plain};'")
    return text.replace(plain, json.dumps({key: assets.by_name[file].versioned for key, file in WIDGET_FILES.items()}))


def demo_token(settings: Settings, customer_code: str) -> str | None:
    """What the utility's customer area would put in the page for a logged-in customer. Only in
    demo mode: it signs a login for any code with the real secret, so anyone could be anyone."""
    if not settings.demo_mode or not settings.customer_area_jwt_secret:
        return None
    return customer_area.sign(customer_code, settings)


# the alphabet and length of a download link's token (bot/billing/links.py)
BILL_LINK_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Assistente clienti: sito dimostrativo", docs_url=None, redoc_url=None, openapi_url=None)
    widget = Assets(STATIC, "/widget/", rewrite=widget_loader)
    billing = BillingClient.from_settings(settings)  # issue 12: the bills' download links
    app.include_router(build_router(settings))
    install_security_headers(app)

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(_: Request, exc: NotLoggedIn) -> object:
        if exc.wants_html:
            return RedirectResponse("/console/login", status_code=303)
        return JSONResponse({"error": "login required"}, status_code=401)

    @app.api_route("/widget/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def widget_file(path: str, request: Request) -> Response:
        return widget.response(path, request.headers, head=request.method == "HEAD")

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    @app.api_route("/favicon.svg", methods=["GET", "HEAD"], include_in_schema=False)
    def favicon(request: Request) -> Response:
        # browsers ask for /favicon.ico on their own; an SVG answers both names
        return widget.response("favicon.svg", request.headers, head=request.method == "HEAD")

    @app.get("/bolletta/{token}", include_in_schema=False)
    def bill_copy(token: str) -> Response:
        """Issue 12: a bill's PDF by the signed, short-lived link the assistant gave. The billing
        backend checks the link (it alone issued it); an expired or altered one gets a page in
        Italian saying how to get a new one."""
        problem = "link_invalid"
        if BILL_LINK_TOKEN.fullmatch(token):
            try:
                pdf = billing.bill_download(token)
            except BillingUnavailable:
                problem = "unavailable"
            except BillingError as error:
                problem = "link_expired" if error.code == "link_expired" else "link_invalid"
            else:
                return Response(
                    pdf,
                    media_type="application/pdf",
                    headers={"Content-Disposition": "inline; filename=bolletta.pdf", "Cache-Control": "no-store"},
                )
        title, text = formatters.DOWNLOAD_PAGES[problem]
        page = (
            '<!doctype html><html lang="it"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head>"
            f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>"
        )
        status = {"link_expired": 410, "link_invalid": 403, "unavailable": 503}[problem]
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def demo(
        login: str | None = Query(
            None, pattern=r"^\d{6}$", description="demo of a customer-area login: the customer code"
        ),
    ) -> str:
        config: dict[str, Any] = {"socketUrl": settings.rasa_public_url}
        token = demo_token(settings, login) if login else None
        if token:
            config["token"] = token
        page = DEMO_PAGE.read_text(encoding="utf-8")
        if token:
            banner = f"Demo: accesso all'Area Clienti come cliente {html.escape(login or '')}."
        else:
            banner = "Demo: visitatore non autenticato."
        # the demo-login link only where it works (demo mode)
        example = ' Provi <a href="/?login=100001">l\'accesso come Mario Rossi</a>.' if settings.demo_mode else ""
        return page.replace("__CONFIG__", json.dumps(config).replace("</", "<\\/")).replace(
            "__BANNER__", banner + example
        )

    return app
