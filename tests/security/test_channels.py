"""Issue 10, findings 2 and 5 and the channels' bad input, against the real running stack
(billing backend, action server, Rasa server with the REST and WhatsApp channels; only Meta's
Graph API is a fake, on loopback).

- Finding 2: after Mario identifies on WhatsApp, the REST channel cannot reach his conversation:
  not with his number as `sender` (another, empty conversation) nor with a "wa:" id (400).
- REST is a server-to-server channel: no token or a wrong one → 401; client metadata (a valid
  customer-area token) is dropped; without REST_CHANNEL_TOKEN the channel refuses everything.
- Finding 5: a 1 MB body → 413; a message one character over MAX_MESSAGE_CHARS gets the polite
  request to shorten it, on REST and WhatsApp, and nothing is stored; other customers are served.
- Bad input: empty message and NUL in `sender` → 400; a non-ASCII WhatsApp verify token → 403.
"""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Dict, List

import jwt
import pytest
import requests
from sqlalchemy import create_engine, text

from bot.channels import TOO_LONG_REPLY
from bot.channels.whatsapp import conversation_id
from bot.settings import PROJECT_ROOT
from tests.channels.fake_graph import FakeGraph, channel_env, post_webhook, text_message, webhook_payload
from tests.harness.processes import free_port, stop, wait_for
from tests.harness.rest import CONVERSATION_ID_SECRET, REST_TOKEN, post_rest, rest_headers, texts
from tests.harness.stack import Stack, running_stack

APP_SECRET = "whatsapp-app-secret-for-the-security-tests"
VERIFY_TOKEN = "verify-token-for-the-security-tests"
JWT_SECRET = "customer-area-secret-for-the-channel-tests"
MAX_CHARS = 2000
MAX_BYTES = 65536
MARIO_NUMBER, MARIO_FISCAL_CODE = "393331234567", "RSSMRA80A01H501U"
MARIO_OPEN_BILL = "182,40"  # customer 100001's open bill: seen only once identified
ASK_FOR_CODE = "codice cliente"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, graph) -> Stack:
    env = channel_env(graph, APP_SECRET, VERIFY_TOKEN, CUSTOMER_AREA_JWT_SECRET=JWT_SECRET,
                      MAX_MESSAGE_CHARS=str(MAX_CHARS), MAX_REQUEST_BYTES=str(MAX_BYTES))
    with running_stack(tmp_path_factory.mktemp("channels-security"), env) as running:
        yield running


def rest(stack: Stack, body, headers: Dict[str, str] = None) -> requests.Response:
    return post_rest(stack.rasa_url, body, headers=headers, timeout=120)


def rest_text(stack: Stack, sender: str, message: str, **extra) -> str:
    return texts(stack.say(sender, message, timeout=120, **extra))


def whatsapp_say(stack: Stack, graph: FakeGraph, number: str, message: str, expect: str, timeout: float = 60) -> str:
    """Send a signed WhatsApp message; the replies sent to the number since, once one has `expect`."""
    before = len(graph.messages_to(number))
    payload = webhook_payload(text_message(number, f"wamid.{uuid.uuid4().hex}", message))
    assert post_webhook(stack.rasa_url, payload, APP_SECRET, timeout=30).status_code == 200
    deadline = time.monotonic() + timeout
    while True:
        replies = " ".join(_body(m) for m in graph.messages_to(number)[before:])
        if expect in replies or time.monotonic() > deadline:
            return replies
        time.sleep(0.2)


def _body(message: dict) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    if message["type"] == "interactive":
        return message["interactive"]["body"]["text"]
    return ""


def stored_events(stack: Stack, sender: str) -> List[dict]:
    """What the tracker store holds for a conversation (read from its database)."""
    engine = create_engine(f"sqlite:///{stack.tmp / 'tracker.db'}", future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                                      {"s": sender}).all()
    finally:
        engine.dispose()
    return [json.loads(row.data) for row in rows]


def user_texts(stack: Stack, sender: str) -> List[str]:
    return [e.get("text") for e in stored_events(stack, sender) if e.get("event") == "user"]


# --------------------------------------------------------------------------- finding 2
def test_a_whatsapp_identification_is_not_reachable_through_rest(stack, graph):
    asked = whatsapp_say(stack, graph, MARIO_NUMBER, "vorrei vedere le bollette", "codice fiscale")
    assert "100001" in asked and "codice fiscale" in asked  # prefilled from the number
    bills = whatsapp_say(stack, graph, MARIO_NUMBER, MARIO_FISCAL_CODE, MARIO_OPEN_BILL)
    assert MARIO_OPEN_BILL in bills  # Mario is identified in his WhatsApp conversation

    # the attack: his number as the REST sender (the conversation id before the fix)
    reply = rest_text(stack, MARIO_NUMBER, "vorrei vedere le bollette")
    assert MARIO_OPEN_BILL not in reply and ASK_FOR_CODE in reply
    assert MARIO_OPEN_BILL not in rest_text(stack, MARIO_NUMBER, "le bollette aperte per favore")
    # his real conversation id, or any WhatsApp-shaped one, is not a REST sender
    for sender in (conversation_id(CONVERSATION_ID_SECRET, MARIO_NUMBER), "wa:" + "0" * 32, "wa:x",
                   "+" + MARIO_NUMBER, "web:abc"):
        assert rest(stack, {"sender": sender, "message": "vorrei vedere le bollette"}).status_code == 400
    # the number names only the REST conversation just made; WhatsApp's is under its opaque id
    assert {e.get("input_channel") for e in stored_events(stack, MARIO_NUMBER) if e.get("event") == "user"} == {"rest"}
    assert any(e.get("input_channel") == "whatsapp"
               for e in stored_events(stack, conversation_id(CONVERSATION_ID_SECRET, MARIO_NUMBER)))


# --------------------------------------------------------------------------- REST credential
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": REST_TOKEN},
    {"Authorization": f"Basic {REST_TOKEN}"}, {"Authorization": "Bearer "},
    {"Authorization": f"Bearer {REST_TOKEN}x"}, {"Authorization": "Bearer tökén".encode("latin-1")},
], ids=["none", "wrong", "no scheme", "basic", "empty", "longer", "non-ascii"])
def test_rest_without_the_right_token_gets_401_and_nothing_is_stored(stack, headers):
    sender = f"noauth-{uuid.uuid4().hex[:8]}"
    answer = rest(stack, {"sender": sender, "message": "Buongiorno"}, headers=headers)
    assert answer.status_code == 401 and "error" in answer.json()
    assert stored_events(stack, sender) == []


def test_rest_metadata_customer_area_token_is_ignored(stack):
    """Finding 1 through REST: a valid customer-area token in the body's metadata identifies nobody."""
    issued = datetime.now(timezone.utc)
    token = jwt.encode({"sub": "100002", "iat": issued, "exp": issued + timedelta(hours=1),
                        "iss": "area-clienti", "aud": "assistente"}, JWT_SECRET, algorithm="HS256")
    sender = f"meta-{uuid.uuid4().hex[:8]}"
    metadata = {"customer_area_token": token, "whatsapp": {"wa_id": "393471112233"}}
    reply = rest_text(stack, sender, "vorrei vedere le bollette", metadata=metadata)
    assert "La riconosco dall'Area Clienti" not in reply and "820,00" not in reply and ASK_FOR_CODE in reply
    assert "100002" not in reply  # nor the WhatsApp prefill from a client-written number
    stored = [e for e in stored_events(stack, sender) if e.get("event") == "user"]
    assert stored and all(token not in json.dumps(e) and "393471112233" not in json.dumps(e) for e in stored)


def test_rest_refuses_everything_without_a_configured_token(tmp_path):
    """Defaults must not leave the channel open: REST_CHANNEL_TOKEN empty → 503 for every request."""
    port = free_port()
    script = (
        "import sys\n"
        "from sanic import Sanic\n"
        "from bot.channels.rest import ResendableRestInput\n"
        "app = Sanic('rest_without_token')\n"
        "async def handler(message): raise AssertionError('reached Rasa')\n"
        "channel = ResendableRestInput.from_credentials(None)\n"
        "app.blueprint(channel.blueprint(handler), url_prefix='/webhooks/rest')\n"
        f"app.run(host='127.0.0.1', port={port}, access_log=False)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "REST_CHANNEL_TOKEN": "",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "HOME": str(tmp_path)}
    log = tmp_path / "rest.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/webhooks/rest/", process, log, timeout=120)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
            answer = requests.post(url, json={"sender": "x", "message": "Buongiorno"}, headers=headers, timeout=30)
            assert answer.status_code == 503 and "REST_CHANNEL_TOKEN" in answer.json()["error"]
    finally:
        stop(process)
    assert "reached Rasa" not in log.read_text(errors="replace")


# --------------------------------------------------------------------------- finding 5
def test_a_one_megabyte_body_gets_413(stack):
    sender = f"big-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"sender": sender, "message": "a" * 1_000_000})
    for url in (f"{stack.rasa_url}/webhooks/rest/webhook", f"{stack.rasa_url}/webhooks/whatsapp/webhook"):
        try:
            answer = requests.post(url, data=body, headers={"Content-Type": "application/json", **rest_headers()},
                                   timeout=60)
        except requests.ConnectionError:  # the server may close before the client has sent it all
            pytest.fail("the server dropped the connection instead of answering 413")
        assert answer.status_code == 413
    assert stored_events(stack, sender) == []
    assert rest_text(stack, f"after-{uuid.uuid4().hex[:8]}", "Buongiorno")  # still serving


def test_an_over_long_rest_message_is_answered_and_not_stored(stack):
    sender = f"long-{uuid.uuid4().hex[:8]}"
    assert rest_text(stack, sender, "Buongiorno")
    over = "codice fiscale RSSMRA80A01H501U " + "a" * MAX_CHARS
    assert rest_text(stack, sender, over[:MAX_CHARS + 1]) == TOO_LONG_REPLY
    assert rest_text(stack, sender, "x" * (MAX_CHARS + 1), message_id="m-long") == TOO_LONG_REPLY
    assert user_texts(stack, sender) == ["Buongiorno"]  # nothing of the long messages stored
    assert all("a" * 100 not in json.dumps(e) for e in stored_events(stack, sender))
    assert TOO_LONG_REPLY not in rest_text(stack, sender, "b" * MAX_CHARS)  # at the cap: processed


def test_over_long_messages_do_not_hold_up_other_customers(stack):
    """Four near-body-cap messages at once (each 60 KB, under the 413 cap) while another talks:
    each sender gets the request to shorten it, none is stored, Mario's conversation goes on."""
    flood = [f"flood-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    customer = f"calm-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        floods = [pool.submit(rest_text, stack, sender, "a" * 60_000) for sender in flood]
        calm = pool.submit(lambda: [rest_text(stack, customer, m) for m in ("vorrei pagare a rate", "100001")])
        assert [f.result() for f in floods] == [TOO_LONG_REPLY] * 4
        first, second = calm.result()
    assert ASK_FOR_CODE in first and "codice fiscale" in second
    assert all(stored_events(stack, sender) == [] for sender in flood)


def test_an_over_long_whatsapp_message_is_answered_and_not_stored(stack, graph):
    number = "39" + str(uuid.uuid4().int)[:10]
    reply = whatsapp_say(stack, graph, number, "z" * (MAX_CHARS + 1), TOO_LONG_REPLY)
    assert reply == TOO_LONG_REPLY
    assert user_texts(stack, conversation_id(CONVERSATION_ID_SECRET, number)) == []


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("body", [
    {"sender": "x", "message": ""}, {"sender": "x", "message": "   \n"}, {"sender": "x\u0000", "message": "ciao"},
    {"sender": "\u0000", "message": "ciao"}, {"sender": "a:b", "message": "ciao"}, {"sender": "x" * 129, "message": "ciao"},
    {"sender": "x", "message": "ci\u0000ao"},
], ids=["empty", "blank", "nul-sender", "only-nul", "colon", "long-sender", "nul-message"])
def test_rest_bad_input_gets_400(stack, body):
    answer = rest(stack, body)
    assert answer.status_code == 400 and "error" in answer.json()


@pytest.mark.parametrize("token", ["é", "vérify-token", "\u202e", "токен", "%FF%FE", "%ED%B3%B6"])
def test_whatsapp_non_ascii_verify_token_gets_403(stack, token):
    # the query string written by hand: "%FF" is a byte that is not UTF-8, "%ED%B3%B6" a surrogate
    quoted = token if token.startswith("%") else requests.utils.quote(token)
    answer = requests.get(f"{stack.rasa_url}/webhooks/whatsapp/webhook"
                          f"?hub.mode=subscribe&hub.verify_token={quoted}&hub.challenge=1", timeout=30)
    assert answer.status_code == 403
