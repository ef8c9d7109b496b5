"""Handoff end to end: the customer asks for a person on REST, the bot pauses, an agent takes
the conversation in the console, replies, and hands back; the codice fiscale stays masked."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
import requests

from bot.console.auth import create_user
from bot.console.routes import agent_turn_of
from bot.db import session_factory
from bot.ops.services import web_server_command
from bot.settings import Settings
from bot.support.db import make_engine
from bot.support.hours import OpeningHours
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import texts
from tests.harness.stack import running_stack

PASSWORD = "password-di-giulia"
FISCAL_CODE = "RSSMRA80A01H501U"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("handoff")
    with running_stack(tmp, {"SUPPORT_HOURS": "mon-sun 00:00-23:59"}) as stack:
        settings = Settings(_env_file=None, web_port=free_port())
        env = dict(stack.env, RASA_URL=stack.rasa_url, RASA_API_TOKEN="token", WEB_PORT=str(settings.web_port))
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            wait_for(f"http://127.0.0.1:{settings.web_port}/health", web, tmp / "web.log")
            create_user(session_factory(make_engine(env["SUPPORT_DATABASE_URL"])), "giulia", PASSWORD, "agent")
            yield stack, f"http://127.0.0.1:{settings.web_port}", tmp
        finally:
            stop(web)


def logged_in(console: str, username: str, password: str):
    session = requests.Session()
    form = session.get(console + "/console/login", timeout=10).text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    session.post(console + "/console/login", data={"username": username, "password": password, "csrf_token": token},
                 timeout=10).raise_for_status()
    page = session.get(console + "/console/", timeout=10).text
    session.headers["X-CSRF-Token"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    return session


def agent_session(console: str):
    return logged_in(console, "giulia", PASSWORD)


def test_handoff_reply_and_hand_back(setup):
    stack, console, tmp = setup
    customer = f"h-{uuid.uuid4().hex[:8]}"
    stack.say(customer, "Buongiorno")
    queued = stack.say(customer, f"sono {FISCAL_CODE}, voglio parlare con un operatore")
    assert "coda in posizione 1" in texts(queued)
    assert stack.say(customer, "ci siete?") == []  # the bot is paused

    agent = agent_session(console)
    tickets = agent.get(console + "/console/api/queue", timeout=10).json()["tickets"]
    ticket = next(t for t in tickets if t["conversation_id"] == customer)
    assert ticket["status"] == "waiting" and ticket["channel"] == "rest"
    assert ticket["summary"]["reason"] == "il cliente ha chiesto un operatore"
    assert "request_human" in ticket["summary"]["wanted"]
    assert agent.post(console + f"/console/api/tickets/{ticket['id']}/take", timeout=10).json()["taken_by"] == "giulia"

    view = agent.get(console + f"/console/api/conversations/{customer}", timeout=10).json()
    assert view["paused"] is True
    assert any(t["from"] == "cliente" and t["text"] == "ci siete?" for t in view["turns"])  # reached the agent
    assert FISCAL_CODE not in json.dumps(view) and FISCAL_CODE not in json.dumps(tickets)
    assert "RSS*********501U" in json.dumps(view)

    agent.post(console + f"/console/api/conversations/{customer}/reply",
               json={"text": "Buongiorno, sono Giulia: come posso aiutarLa?"}, timeout=10).raise_for_status()
    tracker = requests.get(f"{stack.rasa_url}/conversations/{customer}/tracker", params={"token": "token"}, timeout=10).json()
    agent_turns = [agent_turn_of(e) for e in tracker["events"] if e["event"] == "bot" and agent_turn_of(e)]
    assert agent_turns and "Giulia" in agent_turns[-1]["text"]

    agent.post(console + f"/console/api/conversations/{customer}/handback", timeout=10).raise_for_status()
    assert "assistente virtuale" in texts(stack.say(customer, "Buongiorno"))
    assert all(t["conversation_id"] != customer for t in agent.get(console + "/console/api/queue", timeout=10).json()["tickets"])


def test_the_codice_fiscale_never_reaches_the_logs(setup):
    stack, console, tmp = setup
    for log in tmp.glob("*.log"):
        assert FISCAL_CODE not in log.read_text(errors="replace"), log.name


def test_outside_opening_hours_the_customer_is_told_when():
    hours = OpeningHours.parse("mon-fri 08:30-18:00; sat 08:30-13:00")
    saturday_evening = datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc)
    assert not hours.is_open(saturday_evening)
    assert hours.next_opening(saturday_evening) == datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)
    assert hours.is_open(datetime(2026, 11, 26, 9, 0))


def test_review_filters_annotations_exports_reveal_and_metrics(setup):
    stack, console, tmp = setup
    customer = f"r-{uuid.uuid4().hex[:8]}"
    stack.say(customer, f"il mio codice fiscale è {FISCAL_CODE}, voglio un operatore")
    other = f"o-{uuid.uuid4().hex[:8]}"
    stack.say(other, "Buongiorno")
    agent = agent_session(console)
    agent.post(console + f"/console/api/conversations/{customer}/reply", json={"text": "Eccomi"}, timeout=10)

    def ids(**filters):
        found = agent.get(console + "/console/api/conversations", params=filters, timeout=10).json()["conversations"]
        return {c["id"] for c in found}

    assert customer in ids(handed_off="true") and other not in ids(handed_off="true")
    assert customer in ids(intent="request_human") and other in ids(intent="greet")
    assert customer in ids(channel="rest") and not ids(channel="whatsapp") & {customer, other}
    assert ids(q="operatore") >= {customer} and other not in ids(q="operatore")

    agent.post(console + f"/console/api/conversations/{customer}/tags", json={"tag": "reclamo"}, timeout=10).raise_for_status()
    agent.post(console + f"/console/api/conversations/{customer}/notes", json={"text": "richiamare domani"}, timeout=10)
    assert ids(tag="reclamo") == {customer}
    notes = agent.get(console + f"/console/api/conversations/{customer}/annotations", timeout=10).json()
    assert notes["tags"] == ["reclamo"] and notes["notes"][0]["text"] == "richiamare domani"

    agent.post(console + "/console/api/corrections", params={"conversation_id": other},
               json={"text": "mi passate qualcuno in carne e ossa", "intent": "request_human"}, timeout=10).raise_for_status()
    training = agent.get(console + "/console/api/corrections.yml", timeout=10).text
    assert "- intent: request_human\n  examples: |\n    - mi passate qualcuno in carne e ossa" in training

    assert agent.post(console + f"/console/api/conversations/{customer}/reveal", timeout=10).status_code == 403
    create_user(session_factory(make_engine(stack.env["SUPPORT_DATABASE_URL"])), "marta", "password-di-marta", "supervisor")
    supervisor = logged_in(console, "marta", "password-di-marta")
    for export in ("/console/api/export.csv", "/console/api/export.jsonl"):
        assert agent.get(console + export, timeout=10).status_code == 403  # supervisors only
        body = supervisor.get(console + export, params={"handed_off": "true"}, timeout=10).text
        assert "RSS*********501U" in body and FISCAL_CODE not in body
    revealed = supervisor.post(console + f"/console/api/conversations/{customer}/reveal", timeout=10).json()
    assert FISCAL_CODE in json.dumps(revealed)
    from sqlalchemy import select
    from bot.support.models import AuditEntry
    with session_factory(make_engine(stack.env["SUPPORT_DATABASE_URL"]))() as session:
        audit = session.execute(select(AuditEntry).where(AuditEntry.action == "reveal")).scalars().all()
    assert [(a.actor, a.conversation_id) for a in audit] == [("marta", customer)]

    metrics = agent.get(console + "/console/api/metrics", timeout=10).json()
    assert metrics["conversations"] >= 3 and 0 < metrics["handoff_rate"] < 1
    assert metrics["containment"] == round(1 - metrics["handoff_rate"], 3)
    assert metrics["first_agent_reply_seconds"] is not None
    assert ["request_human", 3] in metrics["top_intents"] or any(n == "request_human" for n, _ in metrics["top_intents"])


def test_a_verified_customers_name_is_masked_for_the_agent(setup):
    stack, console, tmp = setup
    customer = f"v-{uuid.uuid4().hex[:8]}"
    stack.conversation(customer, "quali bollette devo pagare?", "100001", FISCAL_CODE, "voglio parlare con un operatore")
    agent = agent_session(console)
    ticket = next(t for t in agent.get(console + "/console/api/queue", timeout=10).json()["tickets"]
                  if t["conversation_id"] == customer)
    view = agent.get(console + f"/console/api/conversations/{customer}", timeout=10).json()
    listed = agent.get(console + "/console/api/conversations", params={"verified": "true"}, timeout=10).json()
    for shown in (ticket, view, listed):
        dumped = json.dumps(shown)
        assert "Mario" not in dumped and FISCAL_CODE not in dumped
    customer_shown = ticket["summary"]["customer"]
    assert customer_shown["verified"] is True and customer_shown["code"] == "****01"
    assert customer_shown["name"].startswith("M***")  # the queue's display name, masked
    assert "M***" in json.dumps(view)
