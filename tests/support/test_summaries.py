"""Folding Rasa events into a conversation summary: a real recorded conversation, in order, out
of order and with events delivered twice; the preview masked; a redelivered broker message."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from bot import db
from bot.support.broker_consumer import decode
from bot.support.db import MIGRATIONS
from bot.support.models import ConversationSummary
from bot.support.summaries import fold, fold_into, new_summary
from tests.support.recorded import CONVERSATION, EVENTS, folded, state

FISCAL_CODE = "RSSMRA80A01H501U"


def test_a_recorded_conversation_is_summarised():
    summary = folded(EVENTS)
    # the same as the console's former scan of every event gave for this conversation
    assert (summary.started, summary.last) == (EVENTS[0]["timestamp"], EVENTS[-1]["timestamp"])
    assert summary.channel == "rest"
    assert summary.user_turns == 8  # 7 messages; the one after the fallback is replayed by Rasa's rewind
    assert summary.intents == ["check_bills", "greet", "inform", "nlu_fallback", "request_human"]
    assert summary.fallback and not summary.low_confidence
    assert summary.handed_off and summary.verified
    assert summary.customer_code == "100001" and summary.names == ["Mario Rossi"]
    assert summary.preview == "Buongiorno"
    assert FISCAL_CODE not in json.dumps(state(summary))


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(range(len(EVENTS))), again=st.lists(st.integers(0, len(EVENTS) - 1), max_size=30))
def test_folding_does_not_depend_on_order_or_on_delivering_twice(order, again):
    events = [EVENTS[i] for i in order] + [EVENTS[i] for i in again]
    assert state(folded(events)) == state(folded(EVENTS))


def test_the_preview_is_masked():
    summary = new_summary("altra")
    fold(summary, {"event": "user", "timestamp": 1.0, "text": f"sono {FISCAL_CODE}, chiamatemi al 333 1234567",
                       "parse_data": {"intent": {"name": "inform", "confidence": 0.4}}})
    assert summary.preview == "sono RSS*********501U, chiamatemi al ********67"
    assert summary.low_confidence and summary.channel is None


def test_a_redelivered_broker_message_is_not_counted_twice(tmp_path):
    url = f"sqlite:///{tmp_path / 'support.db'}"
    db.upgrade(url, MIGRATIONS)
    sessions = db.session_factory(db.make_engine(url))
    user_turn = next(e for e in EVENTS if e["event"] == "user")
    body = json.dumps({"sender_id": CONVERSATION, **user_turn}).encode()
    for _ in range(2):  # RabbitMQ delivers the same message again after a lost acknowledgement
        with sessions() as session, session.begin():
            fold_into(session, decode(body))
    with sessions() as session:
        summary = session.execute(select(ConversationSummary)).scalar_one()
    assert summary.conversation_id == CONVERSATION and summary.user_turns == 1 and summary.intents == ["greet"]


def test_messages_that_are_not_rasa_events_are_recognised():
    assert decode(b"not json") == []
    assert decode(b'["a list"]') == []
    assert decode(b'{"event": "user"}') == []  # no conversation
    assert decode(b'{"sender_id": "x", "events": "bot"}') == []
    assert decode(b'{"sender_id": "x", "event": "bot", "text": "ciao"}') == [("x", {"event": "bot", "text": "ciao"})]


def test_a_message_of_one_save_holds_its_events_in_order():
    body = json.dumps({"sender_id": "x", "events": [{"event": "user", "text": "ciao"}, {"event": "bot", "text": "Buongiorno"},
                                                    {"no": "event"}]}).encode()
    assert decode(body) == [("x", {"event": "user", "text": "ciao"}), ("x", {"event": "bot", "text": "Buongiorno"})]
