"""The widget's socket.io channel (bot/channels/socketio.py): it answers a message it cannot process, and
(issue 14) a standard Rasa socket.io client renders agents' messages and gets what it missed on return."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import UNAVAILABLE_REPLY
from bot.channels.socketio import AnsweringSocketIOInput, SessionIds, _malformed, answering_failures
from bot.console.auth import create_user
from bot.db import session_factory
from bot.ops.services import web_server_command
from bot.settings import Settings
from bot.support.db import make_engine
from tests.console.test_handoff import logged_in
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import rest_headers
from tests.harness.stack import Stack, running_stack


def test_a_message_that_cannot_be_processed_gets_the_apology():
    async def tracker_store_down(message: UserMessage) -> None:
        raise ConnectionError("PostgreSQL unreachable")

    output = CollectingOutputChannel()
    asyncio.run(answering_failures(tracker_store_down)(UserMessage("vorrei pagare a rate", output, "widget-1")))
    assert [(m["recipient_id"], m["text"]) for m in output.messages] == [("widget-1", UNAVAILABLE_REPLY)]


def test_a_message_processed_normally_gets_only_its_answer():
    async def assistant(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Buongiorno!")

    output = CollectingOutputChannel()
    asyncio.run(answering_failures(assistant)(UserMessage("Buongiorno", output, "widget-2")))
    assert [m["text"] for m in output.messages] == ["Buongiorno!"]


def test_it_is_rasas_socketio_channel_for_the_widget():
    channel = AnsweringSocketIOInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    assert channel.name() == "socketio" and channel.session_persistence and channel.bot_message_evt == "bot_uttered"


def test_session_ids_are_issued_signed_and_checked():
    ids = SessionIds("conversation-id-secret")
    conversation, signed = ids.issue(customer=None)
    assert conversation.startswith("web:") and signed.startswith(conversation + ".")
    assert ids.verify(signed, None) == conversation
    assert ids.issue(None)[0] != conversation  # fresh every time
    # an id signed for an anonymous visitor is not resumed by a login, nor one login's by another
    assert ids.verify(signed, "100001") is None
    _, mario = ids.issue("100001")
    assert ids.verify(mario, "100001") and ids.verify(mario, "100002") is None and ids.verify(mario, None) is None
    for forged in [
        conversation,
        conversation + ".",
        signed[:-1] + "x",
        signed + "0",
        "web:." + signed.rpartition(".")[2],
        SessionIds("another-secret").issue(None)[1],
        None,
        42,
        ["web:x.y"],
        "web:" + "a" * 500,
    ]:
        assert ids.verify(forged, None) is None, forged


def test_malformed_messages_are_named():
    assert _malformed({"message": "ciao"}) is None
    for payload in [None, "ciao", 1, [], {}, {"message": None}, {"message": 3}, {"message": ["x"]}, {"message": " \n"}]:
        assert _malformed(payload), payload


# ------------------------------------------------------------------ issue 14: nothing is lost
# Against the real stack (billing backend, action server, Rasa, web service with the console),
# with python-socketio's AsyncClient speaking only Rasa's documented socket.io protocol:
# `session_request` -> `session_confirm`, `user_uttered`, `bot_uttered` with `text`.


AGENT_PASSWORD = "password-di-giulia"  # noqa: S105 - a test password


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    tmp = tmp_path_factory.mktemp("socketio-handoff")
    with running_stack(tmp, {"SUPPORT_HOURS": "mon-sun 00:00-23:59"}) as stack:
        settings = Settings(_env_file=None, web_port=free_port())
        env = dict(stack.env, RASA_URL=stack.rasa_url, WEB_PORT=str(settings.web_port))
        web = start_logged(web_server_command(settings), env, tmp / "web.log")
        try:
            wait_for(f"http://127.0.0.1:{settings.web_port}/health", web, tmp / "web.log")
            create_user(session_factory(make_engine(env["SUPPORT_DATABASE_URL"])), "giulia", AGENT_PASSWORD, "agent")
            yield stack, f"http://127.0.0.1:{settings.web_port}"
        finally:
            stop(web)


async def until(condition: Any, timeout: float = 45) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the server")


class StandardClient:
    """A Rasa socket.io client and nothing else: no project code."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirmed: list[str] = []
        self.received: list[dict[str, Any]] = []
        self.sio.on("session_confirm", self.confirmed.append)
        self.sio.on("bot_uttered", self.received.append)

    async def start(self, url: str, request: dict[str, Any]) -> str:
        await self.sio.connect(url, transports=["websocket"], wait_timeout=20)
        await self.sio.emit("session_request", request)
        await until(lambda: self.confirmed)
        return self.confirmed[-1]

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.received]


def open_ticket_and_take(console: str, conversation: str) -> requests.Session:
    agent = logged_in(console, "giulia", AGENT_PASSWORD)
    tickets = agent.get(console + "/console/api/queue", timeout=10).json()["tickets"]
    ticket = next(t for t in tickets if t["conversation_id"] == conversation)
    agent.post(console + f"/console/api/tickets/{ticket['id']}/take", timeout=10).raise_for_status()
    return agent


def test_a_standard_client_renders_agent_messages_and_gets_what_it_missed_on_return(desk: tuple[Stack, str]):
    stack, console = desk

    async def scenario() -> None:
        first = StandardClient()
        signed = await first.start(stack.rasa_url, {})
        await first.sio.emit("user_uttered", {"message": "voglio parlare con un operatore", "session_id": signed})
        await until(lambda: any("operatore" in t for t in first.texts()))
        conversation = signed.rpartition(".")[0]
        agent = await asyncio.to_thread(open_ticket_and_take, console, conversation)
        live = "Buongiorno, sono Giulia.\nMi dica pure."
        await asyncio.to_thread(
            agent.post, console + f"/console/api/conversations/{conversation}/reply", json={"text": live}, timeout=10
        )
        await until(lambda: live in first.texts())
        message = next(m for m in first.received if m.get("text") == live)
        # the agent is named beside the text, the line break is kept
        assert message["metadata"] == {"sender": "agent", "agent_name": "giulia"}
        seen = max(m["timestamp"] for m in first.received)
        await first.sio.disconnect()

        # the page is closed: the agent writes, nobody receives it now
        away = "Ho verificato: la bolletta risulta pagata."
        answer = await asyncio.to_thread(
            agent.post, console + f"/console/api/conversations/{conversation}/reply", json={"text": away}, timeout=10
        )
        answer.raise_for_status()

        back = StandardClient()
        assert await back.start(stack.rasa_url, {"session_id": signed, "after": seen}) == signed
        await until(lambda: away in back.texts())
        await asyncio.sleep(1)
        assert back.texts() == [away]  # only what it missed, once

        # a client that names no `after` (any standard client) gets no replay
        plain = StandardClient()
        await plain.start(stack.rasa_url, {"session_id": signed})
        await asyncio.sleep(1)
        assert plain.received == []
        for client in (back, plain):
            await client.sio.disconnect()

    asyncio.run(scenario())


def test_a_rest_client_fetches_the_agents_reply_with_its_token(desk: tuple[Stack, str]):
    stack, console = desk
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    stack.say(sender, "voglio parlare con un operatore")
    agent = open_ticket_and_take(console, sender)
    fetch = stack.rasa_url + "/webhooks/rest/messages"
    before = requests.get(fetch, params={"sender": sender, "after": 0}, headers=rest_headers(), timeout=10).json()
    seen = before["messages"][-1]["timestamp"]
    agent.post(
        console + f"/console/api/conversations/{sender}/reply", json={"text": "Eccomi, sono Giulia."}, timeout=10
    ).raise_for_status()

    later = requests.get(fetch, params={"sender": sender, "after": seen}, headers=rest_headers(), timeout=10).json()
    assert [(m["from"], m["agent_name"], m["text"]) for m in later["messages"]] == [
        ("agent", "giulia", "Eccomi, sono Giulia.")
    ]
    assert requests.get(fetch, params={"sender": sender}, timeout=10).status_code == 401
    assert requests.get(fetch, params={"sender": sender}, headers=rest_headers("wrong"), timeout=10).status_code == 401
    for bad in (
        {"sender": "web:abc"},
        {"sender": sender, "after": "nan"},
        {"sender": sender, "after": "-1"},
        {"sender": sender, "after": "ieri"},
        {},
    ):
        assert requests.get(fetch, params=bad, headers=rest_headers(), timeout=10).status_code == 400, bad
    assert requests.get(fetch, params={"sender": "nobody-here"}, headers=rest_headers(), timeout=10).status_code == 404
