"""A customer who comes back after the session expired (issue 15, goal 2), on the real stack:
billing backend, action server (actions/session.py) and Rasa, over REST.

The clock is driven through the tracker store: the conversation's stored events are moved 31
minutes into the past (domain.yml: a session expires after 30 minutes of silence), which is what
Rasa reads to decide that the session expired. The Rasa server runs without its tracker cache
(TRACKER_CACHE_SIZE=0) so that it reads the moved timestamps instead of the trackers it kept.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.harness.rest import texts
from tests.harness.stack import Stack, running_stack

EXPIRED = 31 * 60  # seconds: past domain.yml's session_expiration_time of 30 minutes


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("sessions"), {"TRACKER_CACHE_SIZE": "0"}) as running:
        yield running


def reply(replies: list[dict[str, Any]]) -> str:
    return texts(replies)


def stored(stack: Stack, sender: str) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{stack.tmp / 'tracker.db'}", future=True)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    engine.dispose()
    return [{**json.loads(row.data), "event": row.type_name} for row in rows]


def silence(stack: Stack, sender: str, seconds: int) -> None:
    """The customer said nothing for `seconds`: every stored event of the conversation moves back."""
    engine = create_engine(f"sqlite:///{stack.tmp / 'tracker.db'}", future=True)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, data FROM events WHERE sender_id = :s"), {"s": sender}).all()
        for row in rows:
            data = json.loads(row.data)
            data["timestamp"] -= seconds
            connection.execute(
                text("UPDATE events SET timestamp = :t, data = :d WHERE id = :i"),
                {"t": data["timestamp"], "d": json.dumps(data), "i": row.id},
            )
    engine.dispose()


def new_session_slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots set between the last session start and the action_listen that closes it."""
    start = max(i for i, e in enumerate(events) if e["event"] == "session_started")
    slots: dict[str, Any] = {}
    for event in events[start + 1 :]:
        if event["event"] != "slot":
            break
        slots[event["name"]] = event["value"]
    return slots


def test_a_verified_customer_back_after_the_session_expired_is_still_identified(stack: Stack) -> None:
    who = f"s-{uuid.uuid4().hex[:10]}"
    first = stack.conversation(who, "quali bollette devo pagare?", "100001", "RSSMRA80A01H501U")
    assert "codice cliente" in reply(first[0]) and "verificato" in reply(first[2])
    silence(stack, who, EXPIRED)
    back = stack.say(who, "quali bollette devo pagare?")
    events = stored(stack, who)
    assert [e["event"] for e in events].count("session_started") == 2
    carried = new_session_slots(events)
    assert carried["customer_verified"] is True and carried["customer_code"] == "100001"
    assert set(carried) == {"customer_code", "customer_name", "customer_verified", "customer_token", "fiscal_code"}
    # the same bills as right after the identification, without being asked for the codes
    assert "codice cliente" not in reply(back) and "codice fiscale" not in reply(back)
    assert "182,40" in reply(first[2]) and "182,40" in reply(back)


def test_a_form_left_half_way_starts_again_in_the_new_session(stack: Stack) -> None:
    who = f"s-{uuid.uuid4().hex[:10]}"
    started = stack.conversation(who, "vorrei pagare a rate", "100001")
    assert "codice fiscale" in reply(started[1])
    silence(stack, who, EXPIRED)
    back = stack.say(who, "vorrei pagare a rate")
    assert new_session_slots(stored(stack, who)) == {}  # a typed, unverified code is not kept
    assert "codice cliente" in reply(back)
