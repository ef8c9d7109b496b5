"""Closing a conversation (issue 14): the outcome, the customer's 1-5 rating asked on their
channel and recorded once, the CSAT, the median first reply and the handoffs by reason on the
metrics page; waiting messages not counted as fallbacks; the greeting by the hour.

The first part runs in-process on real SQLite databases (the support database migrated by
Alembic, FastAPI's TestClient on the web app); the last part starts the real services (billing,
action server, Rasa with the trained model, the web service) and goes through REST.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select, update

from bot import clock
from bot.conversation_guards import typed_button_payload
from bot.csat import parse_rating, payload
from bot.db import session_factory
from bot.domain import domain_responses
from bot.settings import Settings
from bot.support.db import make_engine
from bot.support.handoff import REASONS, WAITING_FOR_AGENT, TicketDesk
from bot.support.models import DailyHandoff, Ticket
from bot.support.summaries import fold, new_summary
from tests.console.inprocess import Console, login, make_console


# ---------------------------------------------------------------------- the rating, read
@pytest.mark.parametrize(
    "text, rating",
    [
        ("4", 4),
        ("5 stelle", 5),
        ("Ottimo!", 5),
        ("ottima", 5),
        ("4/5", 4),
        ("3 su 5", 3),
        ("voto: 2", 2),
        ("pessimo", 1),
        ("\u2b50\u2b50\u2b50", 3),
        ("5 - Ottima", 5),
        ("buono, grazie", 4),
        ("cinque su cinque", 5),
        ("do 4", 4),
        ("quattro stelle", 4),
    ],
)
def test_a_typed_rating_is_read(text: str, rating: int) -> None:
    assert parse_rating(text) == rating


@pytest.mark.parametrize(
    "text", ["ho 4 bollette da pagare", "c'è qualcuno?", "3 o 4", "6", "0", "", "ottimo " * 20, "4 rate"]
)
def test_what_is_not_clearly_one_rating_is_not_a_rating(text: str) -> None:
    assert parse_rating(text) is None


def tracker_after(bot_message: dict[str, Any]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("c", [])
    tracker.update(UserUttered("voglio un operatore", {"name": "request_human", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_ask_csat"))
    tracker.update(BotUttered(bot_message.get("text"), {"buttons": bot_message.get("buttons")}))
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def csat_question() -> dict[str, Any]:
    question = dict(domain_responses()["utter_ask_csat"][0])
    # as Rasa renders it: the doubled braces of domain.yml's payloads are its escape for "{"
    question["buttons"] = [
        {**b, "payload": b["payload"].replace("{{", "{").replace("}}", "}")} for b in question["buttons"]
    ]
    return question


def test_right_after_the_question_a_typed_rating_is_the_buttons_payload_and_nowhere_else() -> None:
    question = csat_question()
    assert [b["payload"] for b in question["buttons"]] == [payload(n) for n in (5, 4, 3, 2, 1)]
    after_question = tracker_after(question)
    assert typed_button_payload("4", after_question) == '/rate_service{"csat_rating":"4"}'
    assert typed_button_payload("5 stelle", after_question) == payload(5)
    assert typed_button_payload("ottimo", after_question) == payload(5)
    assert typed_button_payload("ho ancora un problema con la bolletta", after_question) is None
    # after another question "4" stays what the NLU says (a number of installments, an option)
    other = tracker_after({"text": "In quante rate?", "buttons": [{"title": "Tre", "payload": "/inform"}]})
    assert typed_button_payload("4", other) is None


# ---------------------------------------------------------------------- waiting messages
def user_event(text: str, intent: str, confidence: float, at: float, **metadata: Any) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": at,
        "message_id": f"m{at}",
        "input_channel": "rest",
        "parse_data": {"intent": {"name": intent, "confidence": confidence}},
        "metadata": metadata,
    }


def test_a_message_sent_while_waiting_for_a_person_is_not_a_fallback() -> None:
    summary = new_summary("w")
    fold(summary, user_event("voglio un operatore", "request_human", 0.98, 1.0))
    fold(summary, {"event": "pause", "timestamp": 2.0})
    fold(summary, user_event("c'è qualcuno?", "nlu_fallback", 0.3, 3.0, **{WAITING_FOR_AGENT: True}))
    assert (summary.fallback, summary.low_confidence, summary.flagged) == (False, False, False)
    assert summary.user_turns == 2 and summary.handed_off
    # the same words to the assistant are one
    fold(summary, user_event("c'è qualcuno?", "nlu_fallback", 0.3, 4.0))
    assert (summary.fallback, summary.low_confidence, summary.flagged) == (True, True, True)


# ---------------------------------------------------------------------- the greeting's hour
@pytest.mark.parametrize(
    "hour, part", [(4, "sera"), (5, "mattina"), (12, "mattina"), (13, "pomeriggio"), (17, "pomeriggio"), (21, "sera")]
)
def test_the_part_of_day_follows_the_hour_in_rome(hour: int, part: str) -> None:
    assert clock.part_of_day(datetime(2026, 12, 2, hour, 30, tzinfo=clock.ROME)) == part


def test_business_time_fixes_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "get_settings", lambda: Settings(_env_file=None, business_time="21:00"))
    assert (clock.now().hour, clock.now().minute) == (21, 0)
    assert clock.part_of_day() == "sera"


def test_each_greeting_variation_fits_its_part_of_the_day() -> None:
    variations = domain_responses()["utter_greet"]
    by_part = {v["condition"][0]["value"]: v["text"] for v in variations if v.get("condition")}
    assert by_part["mattina"].startswith("Buongiorno")
    assert by_part["pomeriggio"].startswith("Buon pomeriggio")
    assert by_part["sera"].startswith("Buonasera")
    assert not any(v["text"].startswith("Buongiorno") for v in variations if not v.get("condition"))


# ---------------------------------------------------------------------- ratings and metrics
@pytest.fixture
def console(tmp_path: Path) -> Console:
    return make_console(tmp_path)


def desk_of(console: Console) -> TicketDesk:
    return TicketDesk(console.support_url, console.settings)


def answered_after(console: Console, ticket_id: int, seconds: int) -> None:
    with session_factory(make_engine(console.support_url))() as session, session.begin():
        ticket = session.get(Ticket, ticket_id)
        ticket.first_reply_at = ticket.created_at + timedelta(seconds=seconds)


def asked_for_a_rating(console: Console, ticket_id: int) -> None:
    with session_factory(make_engine(console.support_url))() as session, session.begin():
        session.execute(
            update(Ticket).where(Ticket.id == ticket_id).values(status="closed", csat_asked_at=datetime.now())
        )


def test_a_rating_is_recorded_once_and_only_when_asked(console: Console) -> None:
    desk = desk_of(console)
    ticket = desk.open_ticket("rated", "rest", "request_human", {}).ticket_id
    assert desk.record_rating("rated", 5) is False  # not asked yet (the ticket is open)
    asked_for_a_rating(console, ticket)
    assert desk.record_rating("rated", 2) is True
    assert desk.record_rating("rated", 5) is False  # a second tap changes nothing
    with session_factory(make_engine(console.support_url))() as session:
        assert session.get(Ticket, ticket).csat_rating == 2
        rollup = session.execute(select(DailyHandoff).where(DailyHandoff.reason == "request_human")).scalar_one()
        assert (rollup.handoffs, rollup.rated, rollup.satisfied) == (1, 1, 0)


def test_metrics_show_csat_median_first_reply_and_handoffs_by_reason(console: Console) -> None:
    desk = desk_of(console)
    opened = [
        desk.open_ticket(f"m-{i}", "rest", reason, {}).ticket_id
        for i, reason in enumerate(["request_human", "request_human", "request_human", "fallback", "backend_down"])
    ]
    for ticket, seconds in zip(opened, (30, 90, 600, 60), strict=False):
        answered_after(console, ticket, seconds)
    for ticket, (conversation, rating) in zip(opened, [("m-0", 5), ("m-1", 4), ("m-2", 1)], strict=False):
        asked_for_a_rating(console, ticket)
        assert desk.record_rating(conversation, rating)

    client = login(console.app, "giulia")
    metrics = client.get("/console/api/metrics").json()
    assert metrics["csat"] == {"rated": 3, "satisfied": 2, "share": 0.667}
    assert metrics["first_agent_reply_median_seconds"] == pytest.approx(75, abs=0.5)  # of 30, 60, 90, 600
    assert metrics["first_agent_reply_seconds"] == pytest.approx(195, abs=0.5)
    assert metrics["handoffs_by_reason"] == [
        {"reason": "request_human", "label": REASONS["request_human"], "handoffs": 3, "rated": 3, "satisfied": 2},
        {"reason": "backend_down", "label": REASONS["backend_down"], "handoffs": 1, "rated": 0, "satisfied": 0},
        {"reason": "fallback", "label": REASONS["fallback"], "handoffs": 1, "rated": 0, "satisfied": 0},
    ]
    # a range without those days: nothing
    empty = client.get("/console/api/metrics", params={"since": "2020-01-01", "until": "2020-01-02"}).json()
    assert empty["csat"]["share"] is None and empty["handoffs_by_reason"] == []
    assert empty["first_agent_reply_median_seconds"] is None
    page = client.get("/console/metrics").text
    assert 'id="csat"' in page and 'id="reasons-legend"' in page


def test_a_ticket_reopened_for_the_same_conversation_is_counted_once(console: Console) -> None:
    desk = desk_of(console)
    first = desk.open_ticket("again", "rest", "request_human", {}).ticket_id
    assert desk.open_ticket("again", "rest", "request_human", {}).ticket_id == first  # the open one
    with session_factory(make_engine(console.support_url))() as session:
        assert session.execute(select(DailyHandoff.handoffs)).scalar_one() == 1


def test_closing_needs_a_known_outcome(console: Console) -> None:
    client: TestClient = login(console.app, "giulia")
    desk_of(console).open_ticket("o", "rest", "request_human", {})
    answer = client.post("/console/api/conversations/o/close", json={"outcome": "boh"})
    assert answer.status_code == 422


# ---------------------------------------------------------------------- real services
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    from bot.console.auth import create_user
    from bot.ops.services import web_server_command
    from tests.harness.processes import free_port, start_logged, stop, wait_for
    from tests.harness.stack import running_stack

    tmp = tmp_path_factory.mktemp("closing")
    extra = {"SUPPORT_HOURS": "mon-sun 00:00-23:59", "BUSINESS_TIME": "21:00"}
    with running_stack(tmp, extra) as stack:
        settings = Settings(_env_file=None, web_port=free_port())
        env = dict(stack.env, RASA_URL=stack.rasa_url, RASA_API_TOKEN="token", WEB_PORT=str(settings.web_port))  # noqa: S106
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            console = f"http://127.0.0.1:{settings.web_port}"
            wait_for(console + "/health", web, tmp / "web.log")
            create_user(
                session_factory(make_engine(env["SUPPORT_DATABASE_URL"])), "giulia", "password-di-giulia", "agent"
            )
            yield stack, console
        finally:
            stop(web)


def agent(console: str) -> requests.Session:
    from tests.console.test_handoff import logged_in

    return logged_in(console, "giulia", "password-di-giulia")


def fetched(stack: Any, customer: str) -> list[dict[str, Any]]:
    answer = requests.get(
        stack.rasa_url + "/webhooks/rest/messages",
        params={"sender": customer, "after": 0},
        headers={"Authorization": f"Bearer {stack.env['REST_CHANNEL_TOKEN']}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["messages"]


def test_at_21_the_assistant_says_buonasera(live: Any) -> None:
    stack, _ = live
    greeting = " ".join(r.get("text") or "" for r in stack.say(f"g-{uuid.uuid4().hex[:8]}", "ciao"))
    assert greeting.startswith("Buonasera") and "Buongiorno" not in greeting


def test_close_asks_for_a_rating_and_a_typed_rating_reaches_the_metrics(live: Any) -> None:
    stack, console = live
    customer = f"c-{uuid.uuid4().hex[:8]}"
    stack.say(customer, "voglio parlare con un operatore")
    assert stack.say(customer, "c'è qualcuno?") == []  # paused: reaches the agent only
    desk = agent(console)
    ticket = next(
        t
        for t in desk.get(console + "/console/api/queue", timeout=10).json()["tickets"]
        if t["conversation_id"] == customer
    )
    desk.post(console + f"/console/api/tickets/{ticket['id']}/take", timeout=10).raise_for_status()
    desk.post(console + f"/console/api/conversations/{customer}/reply", json={"text": "Eccomi"}, timeout=10)
    closed = desk.post(
        console + f"/console/api/conversations/{customer}/close", json={"outcome": "risolto"}, timeout=10
    )
    assert closed.json() == {"status": "closed", "outcome": "risolto"}

    question = fetched(stack, customer)[-1]
    assert "Come valuta l'assistenza" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == [payload(n) for n in (5, 4, 3, 2, 1)]

    thanks = " ".join(r.get("text") or "" for r in stack.say(customer, "4"))
    assert "Grazie per la Sua valutazione" in thanks
    metrics = desk.get(console + "/console/api/metrics", timeout=10).json()
    assert metrics["csat"]["rated"] >= 1 and metrics["csat"]["satisfied"] >= 1
    assert any(r["reason"] == "request_human" and r["rated"] for r in metrics["handoffs_by_reason"])
    # "c'è qualcuno?" while waiting is marked so, and not a message the assistant failed to understand
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{customer}/tracker", params={"token": "token"}, timeout=10
    ).json()
    waiting = next(e for e in tracker["events"] if e["event"] == "user" and e["text"] == "c'è qualcuno?")
    assert waiting["metadata"][WAITING_FOR_AGENT] is True
    assert not any((e.get("metadata") or {}).get(WAITING_FOR_AGENT) for e in tracker["events"] if e.get("text") == "4")
    listed = desk.get(console + "/console/api/conversations", params={"fallback": "true"}, timeout=10).json()
    assert customer not in {c["id"] for c in listed["conversations"]}
    # the conversation goes on with the assistant
    assert "Buonasera" in " ".join(r.get("text") or "" for r in stack.say(customer, "ciao"))


def test_a_reply_after_the_close_gets_a_clear_409(live: Any) -> None:
    stack, console = live
    customer = f"l-{uuid.uuid4().hex[:8]}"
    stack.say(customer, "voglio parlare con un operatore")
    desk = agent(console)
    desk.post(console + f"/console/api/conversations/{customer}/close", json={"outcome": "non_risolto"}, timeout=10)
    late = desk.post(console + f"/console/api/conversations/{customer}/reply", json={"text": "Eccomi"}, timeout=10)
    assert late.status_code == 409
    assert "il messaggio non è stato inviato" in late.json()["detail"]


def test_migration_0010_counts_the_tickets_already_there(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from bot.db import ALEMBIC_INI
    from bot.support.db import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'support.db'}"
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0009")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for i, (reason, day) in enumerate([("request_human", 1), ("request_human", 1), ("fallback", 2)]):
            connection.execute(
                sa.text(
                    "INSERT INTO tickets (conversation_id, status, reason, summary, created_at) "
                    "VALUES (:c, 'closed', :r, '{}', :t)"
                ),
                {"c": f"c{i}", "r": reason, "t": datetime(2026, 11, day, 10)},
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = list(connection.execute(sa.text("SELECT day, reason, handoffs, rated, satisfied FROM daily_handoffs")))
    assert sorted(map(tuple, rows)) == [("2026-11-01", "request_human", 2, 0, 0), ("2026-11-02", "fallback", 1, 0, 0)]
