"""What every console route module shares: the console's parts, built once per router, and the
typed dependencies a route declares to say who may call it.

- `member`: a staff session (else `NotLoggedIn`: the web app answers 401, or the login page);
- `member_with_csrf`: the same, plus the session's CSRF token in X-CSRF-Token (every POST);
- `supervisor` and `supervisor_with_csrf`: the same, supervisors only (403 otherwise).

A route module is a function `router(console) -> APIRouter`; its routes declare
`staff: StaffMember = Depends(console.member)` (or one of the others).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from fastapi import Header, HTTPException, Request
from fastapi.templating import Jinja2Templates
from pydantic import ConstrainedStr
from sqlalchemy.orm import sessionmaker

from bot.billing.client import BillingClient
from bot.console import auth
from bot.console.auth import StaffMember
from bot.console.conversations import ConversationStore
from bot.console.refs import ConversationRefs
from bot.console.throttle import LoginThrottle
from bot.console.tickets import TicketRules
from bot.db import session_factory
from bot.settings import Settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import TicketDesk
from bot.web.assets import Assets

CONSOLE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = Jinja2Templates(directory=str(CONSOLE_DIR / "templates"))
# scripts and styles under content-hashed names, precompressed (bot/web/assets.py);
# templates write {{ static_url("console.js") }}
CONSOLE_ASSETS = Assets(CONSOLE_DIR / "static", "/console/static/")
TEMPLATES.env.globals["static_url"] = CONSOLE_ASSETS.url


class StaffName(ConstrainedStr):
    """A staff account's name in a request body (transfer to, unlock)."""

    strip_whitespace = True
    min_length = 1
    max_length = 80


class NotLoggedIn(Exception):
    def __init__(self, wants_html: bool) -> None:
        self.wants_html = wants_html


def tracker_path(conversation_id: str) -> str:
    # quoted: an id is the customer's or a channel's choice, and must stay one path segment.
    # ':' stays as it is: Rasa's routes do not unquote, and the channels' ids are 'web:…', 'wa:…'
    return f"/conversations/{quote(conversation_id, safe=':')}/tracker"


class RasaApi:
    """Rasa's HTTP API, as the console uses it: read a tracker, append events to it."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.rasa_api_url.rstrip("/")
        self.token = settings.rasa_api_token

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        params = {"token": self.token, **kwargs.pop("params", {})}
        try:
            answer = requests.request(method, self.url + path, params=params, timeout=(2, 10), **kwargs)
        except requests.RequestException:
            raise HTTPException(502, "Rasa non raggiungibile") from None
        if answer.status_code >= 400:
            raise HTTPException(502, f"Rasa ha risposto {answer.status_code}")
        return answer.json()

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        return self.call("GET", tracker_path(conversation_id), params={"include_events": "ALL"})

    def slots(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's slots now (no events): who the customer is, for the customer panel."""
        return self.call("GET", tracker_path(conversation_id), params={"include_events": "NONE"}).get("slots") or {}

    def send(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Events appended on the conversation's latest input channel, so that the customer
        receives a bot event on the channel they are on."""
        self.call(
            "POST",
            tracker_path(conversation_id) + "/events",
            json=events,
            params={"output_channel": "latest", "execute_side_effects": "true"},
        )

    def utter(self, conversation_id: str, response: str) -> None:
        """Rasa sends one of domain.yml's responses on the conversation's latest input channel,
        rendered for that channel (buttons on the web, a list on WhatsApp)."""
        self.call(
            "POST",
            tracker_path(conversation_id).removesuffix("/tracker") + "/execute",
            json={"name": response},
            params={"output_channel": "latest"},
        )

    def typing(self, conversation_id: str, typing: bool) -> None:
        """An agent is typing (or stopped): the socket.io channel tells the widget (best effort)."""
        with contextlib.suppress(requests.RequestException):  # a typing indicator is not worth an error
            requests.post(
                self.url + "/webhooks/socketio/typing",
                json={"conversation_id": conversation_id, "typing": typing},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=(2, 5),
            )


@dataclass(frozen=True)
class Console:
    settings: Settings
    sessions: sessionmaker
    desk: TicketDesk
    rules: TicketRules
    throttle: LoginThrottle
    refs: ConversationRefs
    conversations: ConversationStore
    rasa: RasaApi
    billing: BillingClient  # the customer panel and canned replies' variables (bot/console/customer.py)

    @classmethod
    def build(cls, settings: Settings) -> Console:
        """The console's parts on the support database (migrated first) and the tracker store."""
        upgrade_schema(settings.support_database_url)
        sessions = session_factory(make_engine(settings.support_database_url))
        return cls(
            settings=settings,
            sessions=sessions,
            desk=TicketDesk(settings.support_database_url, settings),
            rules=TicketRules(sessions),
            throttle=LoginThrottle(sessions, settings),
            refs=ConversationRefs(sessions),
            conversations=ConversationStore(settings, sessions),
            rasa=RasaApi(settings),
            billing=BillingClient.from_settings(settings),
        )

    # ------------------------------------------------------------------ dependencies
    def member(self, request: Request) -> StaffMember:
        found = auth.member_for(self.sessions, request.cookies.get(auth.COOKIE))
        if found is None:
            raise NotLoggedIn(wants_html="text/html" in request.headers.get("accept", ""))
        return found

    def member_with_csrf(self, request: Request, x_csrf_token: str | None = Header(None)) -> StaffMember:
        staff = self.member(request)
        if not auth.tokens_match(x_csrf_token, staff.csrf_token):
            raise HTTPException(403, "token CSRF mancante o non valido")
        return staff

    def supervisor(self, request: Request) -> StaffMember:
        return _supervisor_only(self.member(request))

    def supervisor_with_csrf(self, request: Request, x_csrf_token: str | None = Header(None)) -> StaffMember:
        return _supervisor_only(self.member_with_csrf(request, x_csrf_token))


def _supervisor_only(staff: StaffMember) -> StaffMember:
    if not staff.is_supervisor:
        raise HTTPException(403, "Funzione riservata ai supervisori.")
    return staff
