"""The agent desk's customer panel and canned replies (issue 14) against the real services: the
billing backend (seeded), the action server, Rasa with the WhatsApp channel (Meta's Graph API is
the fake of tests/channels/fake_graph.py) and the socket.io channel, and the web service.

Mario Rossi identifies himself on WhatsApp (his number prefills the code, he gives the codice
fiscale), then on the website (a standard socket.io client) and asks for a person there. The
agent's panel of the web conversation shows his open bill from the backend and one timeline with
both conversations; a conversation where only his code was typed stays out of it. The canned
reply "Bolletta aperta" comes back filled with the bill's number, amount and due date.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from bot.billing.client import BillingClient
from bot.channels.whatsapp import conversation_id
from bot.console.auth import create_user
from bot.console.customer import EXPIRED, NOT_VERIFIED, REFUSED, BillingFacts, VerifiedCustomer, billing_facts
from bot.db import session_factory
from bot.ops.services import web_server_command
from bot.settings import Settings
from bot.support.db import make_engine
from tests.billing.conftest import start_backend
from tests.channels.fake_graph import FakeGraph, channel_env, text_message, webhook_payload
from tests.channels.test_socketio import StandardClient, until
from tests.channels.test_whatsapp import APP_SECRET, VERIFY_TOKEN, post_signed
from tests.console.test_handoff import logged_in
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import CONVERSATION_ID_SECRET
from tests.harness.stack import Stack, running_stack

AGENT_PASSWORD = "password-di-giulia"  # noqa: S105 - a test password
MARIO_PHONE = "393331234567"  # Mario Rossi's WhatsApp in the demo data
MARIO_FISCAL_CODE = "RSSMRA80A01H501U"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, graph: FakeGraph) -> Iterator[tuple[Stack, str, FakeGraph]]:
    tmp: Path = tmp_path_factory.mktemp("customer-panel")
    whatsapp = channel_env(
        graph,
        APP_SECRET,
        VERIFY_TOKEN,
        WHATSAPP_TEMPLATE_NAME="ripresa_conversazione",
        SUPPORT_HOURS="mon-sun 00:00-23:59",
    )
    with running_stack(tmp, whatsapp) as stack:
        settings = Settings(_env_file=None, web_port=free_port())
        env = dict(stack.env, RASA_URL=stack.rasa_url, WEB_PORT=str(settings.web_port))
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            wait_for(f"http://127.0.0.1:{settings.web_port}/health", web, tmp / "web.log")
            sessions = session_factory(make_engine(env["SUPPORT_DATABASE_URL"]))
            create_user(sessions, "giulia", AGENT_PASSWORD, "agent")
            yield stack, f"http://127.0.0.1:{settings.web_port}", graph
        finally:
            stop(web)


def whatsapp_until(stack: Stack, graph: FakeGraph, text: str, fragment: str) -> None:
    """Mario writes on WhatsApp; wait for an answer holding `fragment`."""
    before = len(graph.messages_to(MARIO_PHONE))
    post_signed(stack, webhook_payload(text_message(MARIO_PHONE, f"wamid.{uuid.uuid4().hex}", text)))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(fragment in json.dumps(m, ensure_ascii=False) for m in graph.messages_to(MARIO_PHONE)[before:]):
            return
        time.sleep(0.1)
    raise AssertionError(f"no WhatsApp answer with {fragment!r}")


def web_conversation(stack: Stack) -> str:
    """Mario on the website (a standard socket.io client): identified, then asks for a person."""

    async def scenario() -> str:
        client = StandardClient()
        signed = await client.start(stack.rasa_url, {})

        async def say(text: str, fragment: str) -> None:
            seen = len(client.received)
            await client.sio.emit("user_uttered", {"message": text, "session_id": signed})
            await until(lambda: any(fragment in t for t in client.texts()[seen:]))

        await say("quali bollette devo pagare?", "codice cliente")
        await say("100001", "codice fiscale")
        await say(MARIO_FISCAL_CODE, "182,40")
        await say("vorrei parlare con una persona", "coda")
        await client.sio.disconnect()
        return signed.rpartition(".")[0]

    return asyncio.run(scenario())


def test_the_panel_shows_marios_open_bill_and_one_timeline_across_web_and_whatsapp(
    desk: tuple[Stack, str, FakeGraph],
) -> None:
    stack, console, graph = desk
    whatsapp_until(stack, graph, "quali bollette devo pagare?", "codice fiscale")  # the code prefilled
    whatsapp_until(stack, graph, MARIO_FISCAL_CODE, "182,40")
    typed_only = f"rest-{uuid.uuid4().hex[:8]}"  # someone types Mario's code and goes no further
    stack.conversation(typed_only, "quali bollette devo pagare?", "100001")
    web = web_conversation(stack)

    agent = logged_in(console, "giulia", AGENT_PASSWORD)
    answer = agent.get(f"{console}/console/api/conversations/{web}/customer", timeout=30)
    assert answer.status_code == 200, answer.text
    panel: dict[str, Any] = answer.json()
    assert panel["verified"] and panel["message"] is None
    assert panel["customer"] == {"name": "M*** R***", "code": "****01"}
    assert [(b["amount"], b["supply"]) for b in panel["bills"]] == [("182,40\u00a0€", "luce")]
    assert panel["plans"] == []

    timeline = {item["id"]: item for item in panel["timeline"]}
    whatsapp = conversation_id(CONVERSATION_ID_SECRET, MARIO_PHONE)
    assert set(timeline) == {web, whatsapp}  # not the conversation where the code was only typed
    assert (timeline[web]["channel_label"], timeline[web]["current"]) == ("Sito web", True)
    assert (timeline[whatsapp]["channel_label"], timeline[whatsapp]["current"]) == ("WhatsApp", False)
    assert timeline[web]["handed_off"] and not timeline[whatsapp]["handed_off"]
    assert all("Sapere lo stato delle bollette" in item["topics"] for item in timeline.values())
    shown = json.dumps(panel, ensure_ascii=False)
    assert "Mario" not in shown and MARIO_FISCAL_CODE not in shown and "100001" not in shown

    # the same panel from the WhatsApp conversation: the same timeline, the other one current
    other = agent.get(f"{console}/console/api/conversations/{whatsapp}/customer", timeout=30).json()
    assert {i["id"]: i["current"] for i in other["timeline"]} == {web: False, whatsapp: True}
    unverified = agent.get(f"{console}/console/api/conversations/{typed_only}/customer", timeout=30).json()
    assert unverified == {"verified": False, "message": NOT_VERIFIED}

    # a canned reply filled from the backend's data of the one open bill
    replies = agent.get(f"{console}/console/api/canned", timeout=10).json()["replies"]
    bill_reply = next(r for r in replies if r["title"] == "Bolletta aperta")
    filled = agent.get(f"{console}/console/api/conversations/{web}/canned/{bill_reply['id']}", timeout=30).json()
    bill = panel["bills"][0]
    assert filled["missing"] == []
    assert f"la bolletta luce di 182,40\u00a0€, con scadenza {bill['due']}" in filled["text"]
    typed = agent.get(f"{console}/console/api/conversations/{typed_only}/canned/{bill_reply['id']}", timeout=30)
    assert typed.json()["missing"] == ["fornitura", "importo", "scadenza"]  # kept, never guessed
    assert requests.get(f"{console}/console/api/conversations/{web}/customer", timeout=10).status_code == 401


def test_an_expired_or_foreign_token_gets_no_bills_from_the_real_backend(tmp_path: Path) -> None:
    """The backend, not the console, decides: a token past its `exp` is 'expired', a token of
    another customer is refused (403), and the panel says which (tokens signed as the backend
    signs them, with its test secret, as tests/security does)."""
    backend = start_backend(tmp_path)
    try:
        client = BillingClient(base_url=backend.url, token=backend.token)

        def token(subject: str, minutes: int) -> str:
            expires = datetime.now(timezone.utc) + timedelta(minutes=minutes)
            return jwt.encode({"sub": subject, "exp": expires}, backend.env["BILLING_TOKEN_SECRET"], algorithm="HS256")

        def facts(subject: str, minutes: int) -> BillingFacts:
            return billing_facts(client, VerifiedCustomer("100001", "Mario Rossi", token(subject, minutes)))

        live = facts("100001", 5)
        assert (live.problem, [b["amount_cents"] for b in live.bills], live.plans) == (None, [18_240], [])
        expired, foreign = facts("100001", -1), facts("100002", 5)  # Mario's, expired; Laura's
        assert (expired.problem, expired.bills) == (EXPIRED, [])
        assert (foreign.problem, foreign.bills) == (REFUSED, [])
    finally:
        backend.stop()
