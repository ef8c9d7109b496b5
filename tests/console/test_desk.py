"""The agent desk (issue 14) against the real web service (uvicorn, its support database):
atomic take, push of the queue by server-sent events with a new-ticket notification, a queue an
agent can read, unanswered tickets back in the queue."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from bot.console.auth import create_user
from bot.db import session_factory
from bot.ops.services import service_environment, web_server_command
from bot.settings import Settings
from bot.support.db import make_engine
from bot.support.handoff import TicketDesk, conversation_summary, utcnow
from bot.support.models import Ticket
from tests.console.test_handoff import logged_in
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import TEST_SECRETS

PASSWORDS = {"giulia": "password-di-giulia", "paolo": "password-di-paolo"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TicketDesk]]:
    tmp: Path = tmp_path_factory.mktemp("desk")
    settings = Settings(_env_file=None, web_port=free_port())
    support = f"sqlite:///{tmp / 'support.db'}"
    env = service_environment(
        None,
        None,
        **TEST_SECRETS,
        SUPPORT_DATABASE_URL=support,
        TRACKER_STORE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        WEB_PORT=str(settings.web_port),
        RASA_URL="http://127.0.0.1:9",  # not needed by the queue
        RASA_API_TOKEN="token",  # noqa: S106 - a test token
        SUPPORT_UNANSWERED_MINUTES="10",
    )
    process = start_logged(web_server_command(settings), env, tmp / "web.log")
    try:
        wait_for(f"http://127.0.0.1:{settings.web_port}/health", process, tmp / "web.log")
        sessions = session_factory(make_engine(support))
        for name, password in PASSWORDS.items():
            create_user(sessions, name, password, "agent")
        yield f"http://127.0.0.1:{settings.web_port}", TicketDesk(support, Settings(_env_file=None))
    finally:
        stop(process)


def new_ticket(desk: TicketDesk, conversation: str, channel: str = "socketio", name: str | None = None) -> int:
    slots: dict[str, Any] = {"customer_code": "100001", "customer_verified": bool(name), "customer_name": name}
    summary = conversation_summary([], slots, channel, "request_human")
    return desk.open_ticket(conversation, channel, "request_human", summary).ticket_id


def test_two_agents_taking_one_ticket_at_once_one_wins(web: tuple[str, TicketDesk]):
    base, desk = web
    agents = {name: logged_in(base, name, password) for name, password in PASSWORDS.items()}
    for attempt in range(5):  # several rounds: each a real race between two threads
        ticket = new_ticket(desk, f"web:race{attempt}")
        start = threading.Barrier(len(agents))
        answers: dict[str, requests.Response] = {}

        def take(
            name: str, session: requests.Session, ticket: int = ticket, start: Any = start, answers: Any = answers
        ) -> None:
            start.wait()
            answers[name] = session.post(f"{base}/console/api/tickets/{ticket}/take", timeout=10)

        threads = [threading.Thread(target=take, args=item) for item in agents.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(answer.status_code for answer in answers.values())
        assert codes == [200, 409], {n: a.text for n, a in answers.items()}
        winner = next(n for n, a in answers.items() if a.status_code == 200)
        loser = next(a for a in answers.values() if a.status_code == 409)
        assert answers[winner].json()["taken_by"] == winner
        assert f"già stata presa da {winner}" in loser.json()["detail"]
        assert desk.get(ticket).taken_by == winner


def read_events(stream: requests.Response) -> Iterator[tuple[str, Any]]:
    event = ""
    for line in stream.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            yield event, json.loads(line[len("data: ") :])


def test_a_new_ticket_is_pushed_to_a_logged_in_agent(web: tuple[str, TicketDesk]):
    base, desk = web
    agent = logged_in(base, "giulia", PASSWORDS["giulia"])
    assert requests.get(f"{base}/console/api/events/queue", timeout=5).status_code == 401  # no session, no stream
    with agent.get(f"{base}/console/api/events/queue", stream=True, timeout=(5, 10)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = read_events(stream)
        assert next(events)[0] == "queue"  # the queue as it is, first
        ticket = new_ticket(desk, "web:pushed", "whatsapp", name="Mario Rossi")
        # the read timeout (10 s) bounds the wait; the interval is 0.5 s
        arrived = next(data for kind, data in events if kind == "new_ticket")
        assert arrived["id"] == ticket and arrived["channel_label"] == "WhatsApp"
        assert arrived["reason"] == "il cliente ha chiesto un operatore"


def test_the_queue_is_readable_and_unanswered_tickets_come_back(web: tuple[str, TicketDesk]):
    base, desk = web
    agent = logged_in(base, "giulia", PASSWORDS["giulia"])
    ticket = new_ticket(desk, "web:readable", "socketio", name="Mario Rossi")
    row = next(t for t in agent.get(f"{base}/console/api/queue", timeout=10).json()["tickets"] if t["id"] == ticket)
    assert (row["display_name"], row["channel_label"], row["verified"], row["status"]) == (
        "M*** R***",
        "Sito web",
        True,
        "waiting",
    )
    assert row["reason"] == "il cliente ha chiesto un operatore" and "Mario" not in json.dumps(row)
    agent.post(f"{base}/console/api/tickets/{ticket}/take", timeout=10).raise_for_status()
    row = next(t for t in agent.get(f"{base}/console/api/queue", timeout=10).json()["tickets"] if t["id"] == ticket)
    assert (row["status"], row["taken_by"]) == ("active", "giulia")

    with desk.sessions() as session, session.begin():  # taken 11 minutes ago, never answered
        session.execute(update(Ticket).where(Ticket.id == ticket).values(taken_at=utcnow() - timedelta(minutes=11)))
    row = next(t for t in agent.get(f"{base}/console/api/queue", timeout=10).json()["tickets"] if t["id"] == ticket)
    assert (row["status"], row["taken_by"]) == ("waiting", None)

    agent.post(f"{base}/console/api/tickets/{ticket}/take", timeout=10).raise_for_status()
    desk.replied(ticket)  # answered: it stays with the agent however long the conversation lasts
    with desk.sessions() as session, session.begin():
        session.execute(update(Ticket).where(Ticket.id == ticket).values(taken_at=utcnow() - timedelta(minutes=60)))
    row = next(t for t in agent.get(f"{base}/console/api/queue", timeout=10).json()["tickets"] if t["id"] == ticket)
    assert (row["status"], row["taken_by"]) == ("active", "giulia")
