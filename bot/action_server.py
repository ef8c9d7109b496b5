"""The action server: rasa-sdk's own Sanic app, reachable only by the Rasa server.

`rasa run actions` listens on 0.0.0.0 and answers anyone: a forged tracker POSTed to /webhook
opened real tickets and looked customers up by phone (issue 10, finding 6). This launcher runs
the same app (rasa_sdk.endpoint.create_app with the `actions` package), but

- binds to loopback, or to BIND_HOST when that is one private address of this machine (never
  to a wildcard or public address);
- answers /webhook and /actions only with `Authorization: Bearer $ACTION_SERVER_TOKEN`
  (Rasa sends it from endpoints.yml), compared in constant time; /health stays open for
  probes and reveals nothing;
- refuses to start without a token, reads it from the environment only (never from the
  command line, where `ps` would show it);
- answers an unexpected exception with a bare 500 (rasa-sdk's handler echoes the request
  body, i.e. the whole tracker, back to the caller), and bounds the request body.

    python -m bot.action_server [--actions actions] [--port 5055]
"""

from __future__ import annotations

# First, before rasa-sdk and Sanic: other libraries' deprecation notices stay out of the log
import bot.quiet  # noqa: F401

# isort: split

import argparse
import hmac
import ipaddress
import logging

from rasa_sdk import utils as sdk_utils
from rasa_sdk.endpoint import create_app as create_sdk_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_compat import require
from bot.settings import Settings, get_settings

require("rasa-sdk", __name__)

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
OPEN_PATHS = frozenset({"/health"})
# Rasa posts the current session's tracker: a few MB at most with messages capped at
# MAX_MESSAGE_CHARS. Sanic's default (100 MB) would be read in full before the token check.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
# Sanic closes a connection that has sent nothing for KEEP_ALIVE_TIMEOUT (5 s by default), a new
# one too, before its first request. A saturated Rasa server can take longer than that between
# opening a connection and writing the action call on it (its event loop runs other turns'
# predictions meanwhile): the call failed with "Cannot write to closing transport", the turn went
# without a reply, and `make load` counted silent turns in every profile (docs/performance.md).
# Only the Rasa server connects here; its idle connections are closed after 2 s on its side
# (bot/action_client.py), so a long timeout costs nothing.
KEEP_ALIVE_TIMEOUT_S = 60


def listen_host(bind_host: str) -> str:
    """Loopback, unless BIND_HOST names one private (RFC 1918 / ULA) or loopback address."""
    try:
        address = ipaddress.ip_address(bind_host)
    except ValueError:
        return LOOPBACK
    if address.is_loopback:
        return bind_host
    if address.is_private and not (address.is_unspecified or address.is_link_local or address.is_multicast):
        return bind_host
    return LOOPBACK


def bearer_matches(authorization: str | None, token: str) -> bool:
    """True when the header is `Bearer <token>`; constant-time in the token's content."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode("utf-8"))


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's app for `actions_package`, guarded by the shared token."""
    if not token:
        raise RuntimeError(
            "ACTION_SERVER_TOKEN is empty: the action server does not start without it "
            "(make run generates one; in production set it in the environment)."
        )
    # No CORS: only the Rasa server calls this service, never a browser.
    app = create_sdk_app(actions_package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_TIMEOUT_S

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not bearer_matches(request.headers.get("authorization"), token):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    @app.exception(Exception)
    async def bare_error(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)
        if status >= 500:
            logger.error("action server error on %s", request.path, exc_info=exception)
        return response.json({"error": "error"}, status=status)

    return app


def main(argv: list | None = None) -> None:
    parser = argparse.ArgumentParser(description="The project's action server (rasa-sdk, loopback, token).")
    parser.add_argument("--actions", default="actions", help="package of the actions")
    parser.add_argument("--port", type=int, default=None, help="default: ACTION_PORT")
    args = parser.parse_args(argv)
    settings: Settings = get_settings()

    logging.getLogger("matplotlib").setLevel(logging.WARN)
    sdk_utils.configure_colored_logging("INFO")
    sdk_utils.update_sanic_log_level()

    app = create_app(settings.action_server_token, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host, port = listen_host(settings.bind_host), args.port or settings.action_port
    logger.info("Action endpoint is up and running on http://%s:%s", host, port)
    app.run(host, port, workers=sdk_utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
