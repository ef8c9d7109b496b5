"""Embedded profile: the console folds only the tracker store's events added since it last
looked (SQLite, rows written as Rasa's SQL tracker store writes them)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from bot.console.conversations import EVENTS, ConversationStore
from bot.console.retention import Retention
from bot.settings import Settings
from tests.support.recorded import CONVERSATION, EVENTS as RECORDED, folded, state


@pytest.fixture
def settings(tmp_path):
    return Settings(_env_file=None, tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                    support_database_url=f"sqlite:///{tmp_path / 'support.db'}")


@pytest.fixture
def store(settings) -> ConversationStore:
    store = Retention(settings).conversations
    EVENTS.create(store.engine)
    return store


def store_events(store, sender_id, events):
    rows = [{"sender_id": sender_id, "type_name": e["event"], "timestamp": e["timestamp"],
             "intent_name": ((e.get("parse_data") or {}).get("intent") or {}).get("name"),
             "action_name": e.get("name"), "data": json.dumps(e)} for e in events]
    with store.engine.begin() as connection:
        connection.execute(insert(EVENTS), rows)


def test_only_new_events_are_folded(store):
    half = len(RECORDED) // 2
    store_events(store, CONVERSATION, RECORDED[:half])
    assert store.catch_up() == half
    assert store.catch_up() == 0
    [partial] = store.conversations()
    assert state(partial) == state(folded(RECORDED[:half]))

    store_events(store, CONVERSATION, RECORDED[half:])
    store_events(store, "altra", RECORDED[:4])
    assert store.catch_up() == len(RECORDED) - half + 4
    summaries = {s.conversation_id: s for s in store.conversations()}
    assert state(summaries[CONVERSATION]) == state(folded(RECORDED))
    assert summaries["altra"].user_turns == 1


def test_the_console_catches_up_before_answering(store):
    store_events(store, CONVERSATION, RECORDED)
    assert store.of_customer("100001") == [CONVERSATION]  # no explicit catch-up


def test_with_a_broker_the_console_does_not_read_the_events(settings, store):
    store_events(store, CONVERSATION, RECORDED)
    fed_by_broker = ConversationStore(settings.copy(update={"broker_feeds_summaries": True}), store.sessions)
    assert fed_by_broker.conversations() == [] and fed_by_broker.of_customer("100001") == []


def test_erasing_the_newest_conversation_does_not_hide_the_next_ones(settings, store):
    # SQLite gives a new event the highest id + 1: after an erasure, ids come back
    store_events(store, "vecchia", RECORDED[:4])
    store_events(store, CONVERSATION, RECORDED)
    assert Retention(settings).erase_conversations([CONVERSATION], actor="supervisore") == 1
    store_events(store, "nuova", RECORDED[:4])
    assert sorted(s.conversation_id for s in store.conversations()) == ["nuova", "vecchia"]


def test_a_new_tracker_store_is_folded_from_the_start(tmp_path, settings, store):
    store_events(store, CONVERSATION, RECORDED)
    store.catch_up()
    store.engine.dispose()
    (tmp_path / "tracker.db").unlink()
    fresh = ConversationStore(settings, store.sessions)
    EVENTS.create(fresh.engine)
    store_events(fresh, "nuova", RECORDED[:4])
    assert [s.conversation_id for s in fresh.conversations()] == ["nuova"]


def test_concurrent_catch_ups_share_the_work(settings, store):
    store_events(store, CONVERSATION, RECORDED)
    for i in range(40):
        store_events(store, f"c-{i}", RECORDED[:10])
    others = [ConversationStore(settings, store.sessions) for _ in range(3)]  # as other processes would
    folded_by = []
    threads = [threading.Thread(target=lambda other=other: folded_by.append(other.catch_up())) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(folded_by) == len(RECORDED) + 40 * 10  # each row once, by whichever moved the watermark
    summaries = {s.conversation_id: s for s in store.conversations()}
    assert len(summaries) == 41 and state(summaries[CONVERSATION]) == state(folded(RECORDED))


def test_the_review_filters_apply_to_the_summaries(store):
    store_events(store, "ieri", [dict(e, timestamp=e["timestamp"] - 86400) for e in RECORDED[:4]])
    store_events(store, CONVERSATION, RECORDED)
    today = datetime.fromtimestamp(RECORDED[-1]["timestamp"], tz=timezone.utc).date()

    def ids(**filters):
        return [s.conversation_id for s in store.conversations(**filters)]

    assert ids() == [CONVERSATION, "ieri"]  # most recent first
    assert ids(since=today) == [CONVERSATION] and ids(until=today - timedelta(days=1)) == ["ieri"]
    assert ids(handed_off=True) == ids(verified=True) == ids(fallback=True) == [CONVERSATION]
    assert ids(channel="rest") == [CONVERSATION, "ieri"] and ids(channel="whatsapp") == []
