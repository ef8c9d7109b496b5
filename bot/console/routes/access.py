"""What answers without a staff session: the console's static files and the login form; and
logout. Logins are throttled per account and per client (bot/console/throttle.py)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.console import auth
from bot.console.auth import StaffMember
from bot.console.routes.deps import CONSOLE_ASSETS, TEMPLATES, Console

LOGIN_ERRORS = {
    "wrong": (401, "Nome utente o password non validi."),
    "throttled": (429, "Troppi tentativi non riusciti: attenda qualche minuto prima di riprovare."),
    "locked": (429, "Accesso sospeso dopo troppi tentativi non riusciti: chieda a un supervisore di riattivarlo."),
    "csrf": (403, "Il modulo di accesso è scaduto: ricarichi la pagina e riprovi."),
}


def login_page(console: Console, request: Request, error: str | None = None) -> Response:
    """The form with a pre-session CSRF token, also set as a cookie (double submit): a page
    of another site can post a form here but can neither read nor set the cookie."""
    given = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or ""
    token = given if 32 <= len(given) <= 64 and given.isascii() else secrets.token_urlsafe(32)
    status, message = LOGIN_ERRORS[error] if error else (200, None)
    response = TEMPLATES.TemplateResponse(
        "login.html", {"request": request, "error": message, "csrf_token": token}, status_code=status
    )
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/console",
        secure=console.settings.console_secure_cookies,
        max_age=3600,
    )
    return response


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    settings = console.settings

    @routes.get("/static/{name}")
    def static(name: str, request: Request) -> Response:
        return CONSOLE_ASSETS.response(name, request.headers)

    @routes.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Any:
        return login_page(console, request)

    @routes.post("/login")
    def login(
        request: Request,
        username: str = Form(..., max_length=80),
        password: str = Form(..., max_length=200),
        csrf_token: str | None = Form(None, max_length=100),
    ) -> Any:
        if not auth.tokens_match(csrf_token, request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
            return login_page(console, request, "csrf")
        host = request.client.host if request.client else None
        result = auth.login(
            console.sessions, console.throttle, username, password, host, settings.console_session_hours
        )
        if result.token is None:
            response = login_page(console, request, result.error)
            if result.retry_after:
                response.headers["Retry-After"] = str(result.retry_after)
            return response
        response = RedirectResponse("/console/", status_code=303)
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/console")
        response.set_cookie(
            auth.COOKIE,
            result.token,
            httponly=True,
            samesite="strict",
            path="/console",
            secure=settings.console_secure_cookies,
            max_age=settings.console_session_hours * 3600,
        )
        return response

    @routes.post("/logout")
    def logout(request: Request, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        auth.logout(console.sessions, request.cookies.get(auth.COOKIE, ""))
        response = JSONResponse({"status": "logged out"})
        response.delete_cookie(auth.COOKIE, path="/console")
        return response

    return routes
