"""Security headers on the web service's responses (installed by bot.web.app).

The console gets a strict Content-Security-Policy: its scripts and styles are files under
/console/static (no inline code, so an injected <script> or event handler cannot run), it talks
only to its own origin, and no page may frame it. Every other response gets the headers that
cannot break the demo page and the widget (whose socket.io goes to the Rasa origin): no
framing, no MIME sniffing, no referrer to other origins. A header a route already set wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
EVERYWHERE: dict[bytes, bytes] = {
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"strict-origin-when-cross-origin",
}
CONSOLE: dict[bytes, bytes] = {
    b"content-security-policy": CONSOLE_CSP.encode(),
    b"referrer-policy": b"no-referrer",
    b"cross-origin-opener-policy": b"same-origin",
}
NOT_STATIC = {b"cache-control": b"no-store"}  # console pages and API answers carry personal data
FRAME_ANCESTORS = b"frame-ancestors 'none'"


def headers_for(path: str) -> dict[bytes, bytes]:
    if path == "/console" or path.startswith("/console/"):
        wanted = {**EVERYWHERE, **CONSOLE}
        if not path.startswith("/console/static/"):
            wanted.update(NOT_STATIC)
        return wanted
    return {**EVERYWHERE, b"content-security-policy": FRAME_ANCESTORS}


class SecurityHeaders:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware would buffer every response)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope.get("path", ""))

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted.items() if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: Any) -> None:
    app.add_middleware(SecurityHeaders)
