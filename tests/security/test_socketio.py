"""Issue 10, findings 1 and 3 and the socket.io bad input, against the real running stack
(billing backend, action server, Rasa server, web service), with python-socketio's client as the
standard Rasa socket.io client.

- Finding 1: a customer-area token written by the client into message metadata (REST
  `metadata`, socket.io `metadata` / `customData`) identifies nobody; the same token given at
  the socket.io connection does; the demo page signs logins only in demo mode; tokens lacking a
  required claim, or too old, are refused by the backend and at the connection.
- Finding 3: a second socket naming another session's id (bare, unsigned, signed with another
  key) gets a conversation of its own: it reads none of the first one's replies and writes
  nothing into it.
- Malformed socket.io events get an `error` event; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
import requests
import socketio

from bot.channels import TOO_LONG_REPLY
from bot.ops.services import web_server_command
from bot.settings import Settings
from tests.harness.processes import free_port, start_logged, stop, wait_for
from tests.harness.rest import texts
from tests.harness.stack import Stack, running_stack

JWT_SECRET = "customer-area-secret-for-the-security-tests"  # noqa: S105 - a test key
ISSUER, AUDIENCE = "area-clienti", "assistente"
MARIO_OPEN_BILL = "182,40"  # customer 100001's open bill: seen only once identified
ASK_FOR_CODE = "codice cliente"
REPLY_WAIT_S = 45
SITE = "https://www.luce-gas.example"  # the utility's website, the only allowed origin here


def customer_area_token(
    sub: Any = "100001",
    *,
    omit: str = "",
    age: timedelta = timedelta(0),
    lifetime: timedelta = timedelta(hours=1),
    secret: str = JWT_SECRET,
    **override: Any,
) -> str:
    issued = datetime.now(timezone.utc) - age
    claims: dict[str, Any] = {"sub": sub, "iat": issued, "exp": issued + lifetime, "iss": ISSUER, "aud": AUDIENCE}
    claims.update(override)
    claims.pop(omit, None)
    return jwt.encode(claims, secret, algorithm="HS256")


# Each one lacks a required claim, is too old, or was not issued for this assistant.
BAD_TOKENS = {
    "no sub": lambda: customer_area_token(omit="sub"),
    "no exp": lambda: customer_area_token(omit="exp"),
    "no iat": lambda: customer_area_token(omit="iat"),
    "no aud": lambda: customer_area_token(omit="aud"),
    "no iss": lambda: customer_area_token(omit="iss"),
    "issued 13 hours ago, still unexpired": lambda: customer_area_token(
        age=timedelta(hours=13), lifetime=timedelta(days=30)
    ),
    "expired": lambda: customer_area_token(age=timedelta(hours=2)),
    "another audience": lambda: customer_area_token(aud="another-service"),
    "another issuer": lambda: customer_area_token(iss="someone-else"),
    "another key": lambda: customer_area_token(secret="not-the-customer-area-key-but-as-long"),  # noqa: S106
    "sub not a string": lambda: customer_area_token(sub=100001),  # type: ignore[arg-type]
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    tmp = tmp_path_factory.mktemp("socketio-security")
    with running_stack(
        tmp, {"CUSTOMER_AREA_JWT_SECRET": JWT_SECRET, "SUPPORT_HOURS": "mon-sun 00:00-23:59", "CORS_ORIGINS": SITE}
    ) as running:
        yield running


@pytest.fixture(scope="module")
def web(stack: Stack) -> str:
    """The demo site as `make run-prod` would serve it: demo mode off."""
    settings = Settings(_env_file=None, web_port=free_port())
    env = dict(stack.env, PUBLIC_RASA_URL=stack.rasa_url, RASA_URL=stack.rasa_url, DEMO_MODE="false")
    process = start_logged(web_server_command(settings), env, stack.tmp / "web.log")
    try:
        wait_for(f"http://127.0.0.1:{settings.web_port}/health", process, stack.tmp / "web.log")
        yield f"http://127.0.0.1:{settings.web_port}"
    finally:
        stop(process)


class Widget:
    """One browser tab's socket: what it was confirmed, what it received."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.session_ids: list[str] = []
        self.replies: list[dict[str, Any]] = []
        self.errors: list[Any] = []
        self.refusals: list[Any] = []
        self.client.on("session_confirm", self.session_ids.append)
        self.client.on("bot_uttered", self.replies.append)
        self.client.on("error", self.errors.append)
        self.client.on("connect_error", self.refusals.append)

    async def connect(self, url: str, token: str | None = None, headers: dict[str, str] | None = None) -> None:
        await self.client.connect(
            url,
            transports=["websocket"],
            auth={"token": token} if token else None,
            headers=headers or {},
            wait_timeout=20,
        )

    async def session(self, requested: str | None = None) -> str:
        count = len(self.session_ids)
        await self.client.emit("session_request", {"session_id": requested})
        await until(lambda: len(self.session_ids) > count)
        return self.session_ids[-1]

    async def say(self, text: str, **extra: Any) -> list[str]:
        """Send and wait for the whole answer (replies stop arriving); the texts of the answer."""
        count = len(self.replies)
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_ids[-1], **extra})
        await until(lambda: len(self.replies) > count, REPLY_WAIT_S)
        await quiet(lambda: len(self.replies))
        return [reply.get("text") or "" for reply in self.replies[count:]]

    def texts(self) -> str:
        return " ".join(reply.get("text") or "" for reply in self.replies)

    async def close(self) -> None:
        await self.client.disconnect()


async def until(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.05)


async def quiet(count, period: float = 1.5) -> None:
    """Wait until `count()` has not changed for `period` seconds (the bot has finished its turn)."""
    last, since = count(), time.monotonic()
    while time.monotonic() - since < period:
        await asyncio.sleep(0.1)
        if count() != last:
            last, since = count(), time.monotonic()


def tracker_texts(stack: Stack, conversation: str) -> list[str]:
    response = requests.get(
        f"{stack.rasa_url}/conversations/{conversation}/tracker",
        params={"token": stack.env["RASA_API_TOKEN"]},
        timeout=30,
    )
    response.raise_for_status()
    return [event.get("text") or "" for event in response.json()["events"] if event["event"] == "user"]


def conversation_of(signed_id: str) -> str:
    return signed_id.rpartition(".")[0]


# ------------------------------------------------------------------ finding 1: the metadata token


def test_a_token_in_rest_metadata_does_not_identify_the_customer(stack: Stack):
    replies = stack.say(
        "attacker-rest-1",
        "quali bollette devo ancora pagare?",
        metadata={"customer_area_token": customer_area_token()},
    )
    answer = texts(replies)
    assert MARIO_OPEN_BILL not in answer and "Area Clienti" not in answer
    assert ASK_FOR_CODE in answer


def test_a_token_in_socketio_message_metadata_does_not_identify_the_customer(stack: Stack):
    async def scenario() -> str:
        widget = Widget()
        await widget.connect(stack.rasa_url)  # no token at the connection
        await widget.session()
        token = customer_area_token()
        answer = " ".join(
            await widget.say(
                "quali bollette devo ancora pagare?",
                metadata={"customer_area_token": token},
                customData={"customer_area_token": token},
            )
        )
        await widget.close()
        return answer

    answer = asyncio.run(scenario())
    assert MARIO_OPEN_BILL not in answer and "Area Clienti" not in answer
    assert ASK_FOR_CODE in answer


def test_the_token_given_at_the_connection_identifies_the_customer(stack: Stack):
    async def scenario() -> str:
        widget = Widget()
        await widget.connect(stack.rasa_url, token=customer_area_token("100001"))
        await widget.session()
        answer = " ".join(await widget.say("quali bollette devo ancora pagare?"))
        await widget.close()
        return answer

    answer = asyncio.run(scenario())
    assert MARIO_OPEN_BILL in answer and "Area Clienti" in answer


def test_the_demo_login_signs_nothing_outside_demo_mode(web: str):
    page = requests.get(web + "/", params={"login": "100002"}, timeout=10)
    assert page.status_code == 200
    assert '"token"' not in page.text and "eyJ" not in page.text  # no JWT in the page
    assert "visitatore non autenticato" in page.text


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_the_backend_refuses_customer_area_tokens_lacking_a_claim_or_too_old(stack: Stack, case: str):
    response = stack.backend.post("/v1/identity/customer-area", {"token": BAD_TOKENS[case]()})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "customer_area_token_invalid"


def test_the_backend_accepts_a_complete_customer_area_token(stack: Stack):
    response = stack.backend.post("/v1/identity/customer-area", {"token": customer_area_token("100001")})
    assert response.status_code == 200, response.text
    assert response.json()["customer_code"] == "100001"


def test_the_backend_answers_a_non_jwt_token_with_a_4xx(stack: Stack):
    for token in ["ä" * 10, "a b", "x" * 5000]:
        response = stack.backend.post("/v1/identity/customer-area", {"token": token})
        assert response.status_code == 422, (token[:10], response.text)


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_the_socketio_connection_refuses_customer_area_tokens_lacking_a_claim_or_too_old(stack: Stack, case: str):
    async def scenario() -> None:
        widget = Widget()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await widget.connect(stack.rasa_url, token=BAD_TOKENS[case]())
        assert widget.refusals == [{"message": "customer_area_token_invalid"}]

    asyncio.run(scenario())


# ------------------------------------------------------------------ finding 3: session injection


def forged_ids(signed_id: str) -> dict[str, str]:
    conversation = conversation_of(signed_id)
    other_key = hmac.new(b"guessed-key", conversation.encode(), hashlib.sha256).hexdigest()[:32]
    return {
        "bare conversation id": conversation,
        "without its signature": conversation + ".",
        "signed with another key": f"{conversation}.{other_key}",
        "signature altered": signed_id[:-1] + ("0" if signed_id[-1] != "0" else "1"),
        "the hex part alone": conversation.split(":", 1)[1],
    }


def test_a_second_socket_naming_another_session_gets_its_own_and_neither_reads_nor_writes_the_first(stack: Stack):
    async def scenario() -> None:
        victim = Widget()
        await victim.connect(stack.rasa_url)
        victim_id = await victim.session()
        assert victim_id.startswith("web:")
        await victim.say("Buongiorno")
        victim_conversation = conversation_of(victim_id)
        for case, forged in forged_ids(victim_id).items():
            seen_by_victim = len(victim.replies)
            attacker = Widget()
            await attacker.connect(stack.rasa_url)
            attacker_id = await attacker.session(forged)
            assert conversation_of(attacker_id) != victim_conversation, case
            # the payload's session_id is the victim's: the server uses the socket's own
            answer = await attacker.say(f"vorrei parlare con una persona ({case})", session_id=victim_id)
            assert answer, case
            await victim.say("grazie")  # the victim's own turn still reaches only the victim
            await attacker.close()
            assert f"({case})" not in " ".join(tracker_texts(stack, victim_conversation)), case
            assert all("grazie" not in text for text in tracker_texts(stack, conversation_of(attacker_id))), case
            # the victim received answers to its own message only, never the attacker's
            victim_answers = victim.replies[seen_by_victim:]
            assert victim_answers and all("coda" not in (r.get("text") or "") for r in victim_answers), case
        # and nothing the attacker sent reached the victim's socket afterwards either
        await victim.close()

    asyncio.run(scenario())


def test_the_signed_id_resumes_the_conversation_after_a_reload(stack: Stack):
    async def scenario() -> None:
        first = Widget()
        await first.connect(stack.rasa_url)
        signed = await first.session()
        await first.say("come funziona il bonus sociale?")
        await first.close()
        reloaded = Widget()
        await reloaded.connect(stack.rasa_url)
        assert await reloaded.session(signed) == signed
        await reloaded.say("grazie")
        await reloaded.close()
        assert tracker_texts(stack, conversation_of(signed))[-2:] == ["come funziona il bonus sociale?", "grazie"]

    asyncio.run(scenario())


def test_a_session_of_one_login_is_not_resumed_by_another_login_nor_after_logout(stack: Stack):
    async def scenario() -> None:
        mario = Widget()
        await mario.connect(stack.rasa_url, token=customer_area_token("100001"))
        signed = await mario.session()
        await mario.say("quali bollette devo ancora pagare?")
        assert MARIO_OPEN_BILL in mario.texts()
        await mario.close()
        for token in [customer_area_token("100002"), None]:
            other = Widget()
            await other.connect(stack.rasa_url, token=token)
            assert conversation_of(await other.session(signed)) != conversation_of(signed)
            answer = " ".join(await other.say("quali bollette devo ancora pagare?"))
            assert MARIO_OPEN_BILL not in answer
            await other.close()

    asyncio.run(scenario())


def test_a_page_of_another_site_cannot_connect(stack: Stack):
    async def scenario() -> None:
        evil = Widget()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await evil.connect(stack.rasa_url, headers={"Origin": "https://evil.example"})
        assert evil.refusals == [{"message": "origin_not_allowed"}]
        allowed = Widget()
        await allowed.connect(stack.rasa_url, headers={"Origin": SITE})
        await allowed.close()

    asyncio.run(scenario())


# ------------------------------------------------------------------ bad input

MALFORMED = [
    ("user_uttered", ("a bare string",)),
    ("user_uttered", (12345,)),
    ("user_uttered", (["a", "list"],)),
    ("user_uttered", ({},)),
    ("user_uttered", ({"message": None},)),
    ("user_uttered", ({"message": {"nested": "object"}},)),
    ("user_uttered", ({"message": "   "},)),
    ("user_uttered", ()),
    ("session_request", ("not an object",)),
    ("session_request", ([1, 2],)),
]


def test_malformed_events_get_an_error_event_and_the_server_keeps_serving(stack: Stack):
    async def scenario() -> None:
        widget = Widget()
        await widget.connect(stack.rasa_url)
        # a message before any session_request: no conversation to put it in
        await widget.client.emit("user_uttered", {"message": "ciao"})
        await until(lambda: len(widget.errors) == 1)
        assert widget.errors[-1]["code"] == "no_session"
        await widget.session()
        for number, (event, args) in enumerate(MALFORMED, start=2):
            await widget.client.emit(event, args[0] if args else None)
            await until(lambda number=number: len(widget.errors) == number)
            assert isinstance(widget.errors[-1].get("reason"), str), (event, args)
        # over the cap: the polite request to shorten it, not an error
        assert await widget.say("a" * 3000) == [TOO_LONG_REPLY]
        # over MAX_REQUEST_BYTES: the transport drops the socket without reading it into Rasa
        flooder = Widget()
        await flooder.connect(stack.rasa_url)
        await flooder.session()
        await flooder.client.emit("user_uttered", {"message": "a" * 100_000})
        await until(lambda: not flooder.client.connected)
        assert flooder.replies == []
        assert widget.client.connected and await widget.say("come funziona il bonus sociale?")
        await widget.close()

    asyncio.run(scenario())
    log = stack.rasa_log()
    assert "Traceback" not in log and "not processed" not in log
