"""In-process harness of the support console: the whole web app under FastAPI's TestClient on
a real SQLite support database and tracker store (the recorded conversation written as Rasa's
SQL tracker store writes it), three staff accounts, and their logged-in clients
(tests/console/conftest.py's `clients`). Nothing listens on the Rasa port."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from bot.console.auth import create_user
from bot.console.conversations import EVENTS
from bot.db import session_factory
from bot.settings import Settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.handoff import TicketDesk
from bot.support.models import AuditEntry
from bot.web.app import create_app
from tests.harness.processes import free_port
from tests.support.recorded import CONVERSATION
from tests.support.recorded import EVENTS as RECORDED

PASSWORD = "una-password-lunga"  # noqa: S105  (a test account's)
PHONE = "393331234567"
STAFF = (("giulia", "agent"), ("paolo", "agent"), ("marta", "supervisor"))


@dataclass
class Console:
    app: FastAPI
    support_url: str
    settings: Settings

    def audit(self, *actions: str) -> list[AuditEntry]:
        with session_factory(make_engine(self.support_url))() as session:
            query = select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
            return list(session.execute(query).scalars())

    def open_ticket(self, conversation_id: str) -> int:
        desk = TicketDesk(self.support_url, self.settings)
        return desk.open_ticket(conversation_id, "rest", "il cliente ha chiesto un operatore", {}).ticket_id


def store_events(tracker_url: str, sender_id: str, events: list[dict[str, Any]]) -> None:
    """Rows as Rasa's SQL tracker store writes them."""
    rows = [
        {
            "sender_id": sender_id,
            "type_name": e["event"],
            "timestamp": e["timestamp"],
            "intent_name": ((e.get("parse_data") or {}).get("intent") or {}).get("name"),
            "action_name": e.get("name"),
            "data": json.dumps(e),
        }
        for e in events
    ]
    engine = make_engine(tracker_url)
    EVENTS.create(engine, checkfirst=True)
    with engine.begin() as connection:
        connection.execute(insert(EVENTS), rows)


def make_console(tmp: Path, **overrides: Any) -> Console:
    support_url = f"sqlite:///{tmp / 'support.db'}"
    tracker_url = f"sqlite:///{tmp / 'tracker.db'}"
    upgrade_schema(support_url)
    sessions = session_factory(make_engine(support_url))
    for name, role in STAFF:
        create_user(sessions, name, PASSWORD, role)
    store_events(tracker_url, CONVERSATION, RECORDED)
    store_events(tracker_url, PHONE, RECORDED[:4])  # an old WhatsApp id: the customer's phone number
    values: dict[str, Any] = {
        "support_database_url": support_url,
        "tracker_store_url": tracker_url,
        "rasa_port": free_port(),  # nothing listens there
        "rasa_api_token": "x",
        "support_hours": "mon-sun 00:00-23:59",
        "console_client_free_failures": 1000,
        **overrides,
    }
    settings = Settings(_env_file=None, **values)
    return Console(create_app(settings), support_url, settings)


def form_token(client: TestClient) -> str:
    page = client.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def login(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    """A client with a staff session, sending its CSRF token on every request."""
    client = TestClient(app)
    answer = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/console/").text
    client.headers["X-CSRF-Token"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    return client
