"""The project's tracker store (bot/rasa_stores.py): stores and publishes exactly what Rasa's own
SQLTrackerStore would, with one read per save; SQLite in write-ahead-log mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import List

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from bot.rasa_stores import UrlSQLTrackerStore
from bot.settings import get_settings

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, request_installments]
slots:
  customer_code: {type: text, mappings: [{type: custom}]}
""")

TURNS = [
    [SessionStarted(), ActionExecuted("action_listen"),
     UserUttered("Buongiorno", {"name": "greet", "confidence": 0.98})],
    [BotUttered("Buongiorno, come posso aiutarLa?"), ActionExecuted("utter_greet"), ActionExecuted("action_listen")],
    [UserUttered("vorrei pagare a rate", {"name": "request_installments", "confidence": 0.91}),
     SlotSet("customer_code", "100001"), BotUttered("Mi dice il codice fiscale?"), ActionExecuted("action_listen")],
]


def _rows(db: Path, table: str = "events") -> List[tuple]:
    engine = create_engine(f"sqlite:///{db}", future=True)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def _save_turn_by_turn(store: SQLTrackerStore) -> None:
    async def run() -> None:
        tracker = DialogueStateTracker("conv-1", DOMAIN.slots)
        for turn in TURNS:
            for event in turn:
                tracker.update(event)
            await store.save(tracker)
            await store.save(tracker)  # Rasa saves twice per message; nothing new the second time
    asyncio.run(run())


@pytest.fixture()
def stores(tmp_path: Path):
    ours = UrlSQLTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'ours.db'}",
                              event_broker=SQLEventBroker(db=str(tmp_path / "ours-broker.db")))
    rasas = SQLTrackerStore(DOMAIN, db=str(tmp_path / "rasa.db"),
                            event_broker=SQLEventBroker(db=str(tmp_path / "rasa-broker.db")))
    return ours, rasas, tmp_path


def test_stores_what_rasas_store_would_and_publishes_the_same_events_one_message_per_save(stores) -> None:
    ours, rasas, tmp_path = stores
    _save_turn_by_turn(ours)
    _save_turn_by_turn(rasas)

    stored = _rows(tmp_path / "ours.db")
    assert [row[1:] for row in stored] == [row[1:] for row in _rows(tmp_path / "rasa.db")]
    assert len(stored) == sum(len(turn) for turn in TURNS)

    messages = [json.loads(row[2]) for row in _rows(tmp_path / "ours-broker.db")]
    assert len(messages) == len(TURNS)  # one per save that stored something
    assert {message["sender_id"] for message in messages} == {"conv-1"}
    published = [{"sender_id": m["sender_id"], **event} for m in messages for event in m["events"]]
    assert published == [json.loads(row[2]) for row in _rows(tmp_path / "rasa-broker.db")]
    assert [event["event"] for event in published] == [event.type_name for turn in TURNS for event in turn]


def test_publishes_as_rasa_does_when_asked(stores, monkeypatch) -> None:
    ours, rasas, tmp_path = stores
    monkeypatch.setenv("BROKER_MESSAGE_PER_SAVE", "false")
    get_settings.cache_clear()
    try:
        _save_turn_by_turn(ours)
    finally:
        monkeypatch.delenv("BROKER_MESSAGE_PER_SAVE")
        get_settings.cache_clear()
    _save_turn_by_turn(rasas)
    assert _rows(tmp_path / "ours-broker.db") == _rows(tmp_path / "rasa-broker.db")


def test_a_failed_commit_publishes_nothing(stores, monkeypatch) -> None:
    ours, _, tmp_path = stores

    def broken_commit(self) -> None:
        raise RuntimeError("database unavailable")

    from sqlalchemy.orm import Session
    monkeypatch.setattr(Session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        _save_turn_by_turn(ours)
    assert _rows(tmp_path / "ours-broker.db") == []


def test_retrieves_the_conversation_it_saved(stores) -> None:
    ours, _, _ = stores
    _save_turn_by_turn(ours)
    tracker = asyncio.run(ours.retrieve("conv-1"))
    assert tracker.get_slot("customer_code") == "100001"
    assert tracker.latest_message.text == "vorrei pagare a rate"


def test_sqlite_runs_in_write_ahead_log_mode_with_connections_kept_open(stores) -> None:
    ours, _, _ = stores
    assert isinstance(ours.engine.pool, QueuePool)
    with ours.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_knows_which_user_messages_it_holds(stores) -> None:
    ours, _, _ = stores
    tracker = DialogueStateTracker("conv-2", DOMAIN.slots)
    tracker.update(UserUttered("Buongiorno", {"name": "greet", "confidence": 0.98}, message_id="m-1"))
    tracker.update(BotUttered("Buongiorno, come posso aiutarLa?"))
    asyncio.run(ours.save(tracker))
    assert ours.has_user_message("conv-2", "m-1")
    assert not ours.has_user_message("conv-2", "m-2")
    assert not ours.has_user_message("conv-1", "m-1")
    tracker.update(UserUttered("grazie", {"name": "thank", "confidence": 0.9}, message_id="m-2"))
    asyncio.run(ours.save(tracker))
    assert ours.has_user_message("conv-2", "m-2", among_last=1)
    assert not ours.has_user_message("conv-2", "m-1", among_last=1)  # older than the window


@pytest.mark.parametrize("message_id", ['50%_off', 'a/b//_%c', 'quote"and\\slash', "perché-è", "m-1"])
def test_finds_any_message_id_by_its_stored_text_and_only_that_one(stores, message_id) -> None:
    ours, _, _ = stores
    sender = f"conv-ids-{abs(hash(message_id))}"
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    # the id also appears in another message's text: matched by the query, then ruled out
    tracker.update(UserUttered(f'ho scritto "{message_id}" e 50 per cento', {"name": "greet"}, message_id="other"))
    tracker.update(UserUttered("Buongiorno", {"name": "greet", "confidence": 0.98}, message_id=message_id))
    asyncio.run(ours.save(tracker))
    assert ours.has_user_message(sender, message_id)
    assert not ours.has_user_message(sender, message_id[:-1])
    assert not ours.has_user_message(sender, "50%")  # LIKE's wildcards are escaped
    assert not ours.has_user_message(sender, "_")
    fresh = f"{sender}-b"
    tracker = DialogueStateTracker(fresh, DOMAIN.slots)
    tracker.update(UserUttered(f"il codice {message_id}", {"name": "greet"}, message_id="x"))
    asyncio.run(ours.save(tracker))
    assert not ours.has_user_message(fresh, message_id)
