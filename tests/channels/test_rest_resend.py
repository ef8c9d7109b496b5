"""The REST channel (bot/channels/rest.py) against the real stack: a message resent with the same
`message_id` is stored and acted on once; bad requests get 400."""

from __future__ import annotations

import uuid
from typing import List

import pytest
import requests

from tests.harness.rest import post_rest, rest_headers, texts
from tests.harness.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("rest")) as running:
        yield running


def user_messages(stack: Stack, sender: str) -> List[str]:
    tracker = requests.get(f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": "token"},
                           timeout=30).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_a_resent_message_gets_its_first_answer_and_is_stored_once(stack):
    who = f"rs-{uuid.uuid4().hex[:8]}"
    first = stack.say(who, "vorrei pagare a rate", message_id="m-1")
    assert "codice cliente" in first[0]["text"]
    assert stack.say(who, "vorrei pagare a rate", message_id="m-1") == first
    assert "codice fiscale" in stack.say(who, "100001", message_id="m-2")[0]["text"]
    assert stack.say(who, "vorrei pagare a rate", message_id="m-1") == first  # an old resend, late
    assert user_messages(stack, who) == ["vorrei pagare a rate", "100001"]


def test_a_message_stored_without_an_answer_is_answered_when_resent(stack):
    who = f"rd-{uuid.uuid4().hex[:8]}"
    stack.say(who, "Buongiorno", message_id="m-1")
    parsed = requests.post(f"{stack.rasa_url}/model/parse", params={"token": "token"},
                           json={"text": "vorrei pagare a rate"}, timeout=30).json()
    # the user message alone, as Rasa's HTTP API appends it (no action after it)
    stored = requests.post(f"{stack.rasa_url}/conversations/{who}/tracker/events", params={"token": "token"},
                           json=[{"event": "user", "text": "vorrei pagare a rate", "message_id": "m-2",
                                  "parse_data": parsed, "input_channel": "rest"}], timeout=30)
    stored.raise_for_status()
    replies = stack.say(who, "vorrei pagare a rate", message_id="m-2")
    assert "codice cliente" in replies[0]["text"]
    assert user_messages(stack, who) == ["Buongiorno", "vorrei pagare a rate"]
    assert "codice fiscale" in stack.say(who, "100001", message_id="m-3")[0]["text"]  # the conversation goes on


def test_without_message_id_every_post_is_a_new_message(stack):
    who = f"rn-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        stack.say(who, "Buongiorno")
    assert user_messages(stack, who) == ["Buongiorno", "Buongiorno"]


@pytest.mark.parametrize("body", [
    None, [], "ciao", {"message": "ciao"}, {"sender": "", "message": "ciao"}, {"sender": "x", "message": 3},
    {"sender": "x", "message": "ciao", "message_id": ""}, {"sender": "x", "message": "ciao", "message_id": "m" * 101},
    {"sender": "x" * 129, "message": "ciao"}, {"sender": "x", "message": ""}, {"sender": "x", "message": " \n\t"},
    {"sender": "x\u0000y", "message": "ciao"}, {"sender": "a b", "message": "ciao"}, {"sender": "x", "message": "a\u0000"},
])
def test_malformed_requests_get_400(stack, body):
    response = post_rest(stack.rasa_url, body)
    assert response.status_code == 400 and "error" in response.json()


def test_invalid_json_gets_400(stack):
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", data=b"{not json",
                             headers={"Content-Type": "application/json", **rest_headers()}, timeout=30)
    assert response.status_code == 400


def test_a_message_resent_while_an_agent_has_the_conversation_is_stored_once(stack):
    who = f"rp-{uuid.uuid4().hex[:8]}"
    handoff = texts(stack.say(who, "vorrei parlare con un operatore", message_id="m-1"))
    assert "operatore" in handoff
    for _ in range(2):  # the bot is paused: no answer, and the resend is not stored again
        assert stack.say(who, "ci siete?", message_id="m-2") == []
    assert user_messages(stack, who) == ["vorrei parlare con un operatore", "ci siete?"]
