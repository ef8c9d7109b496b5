"""The tracker cache (bot/tracker_cache.py, used by bot/rasa_stores.py): every tracker it hands out
is the one Rasa's own SQL store would build from the database, turn after turn; a replica that
missed turns catches up; a failed turn, a purge, a new session or a domain change leave nothing
stale. Compared with Rasa's SQLTrackerStore reading the same database, on the recorded
conversation (tests/support/recorded_conversation.json)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from sqlalchemy import create_engine, text

from bot import tracker_history
from bot.rasa_stores import UrlSQLTrackerStore
from bot.settings import PROJECT_ROOT
from tests.support.recorded import EVENTS

SENDER = "registrata-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def turns() -> list[list[dict[str, Any]]]:
    """The recorded events cut before each user message (what one turn of Rasa adds)."""
    cut: list[list[dict[str, Any]]] = [[]]
    for event in EVENTS:
        if event["event"] == "user" and cut[-1]:
            cut.append([])
        cut[-1].append(event)
    return cut


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def view(tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """What Rasa reads from a tracker: its state with every event, and the policies' states."""
    return {"state": tracker.current_state(EventVerbosity.ALL), "states": tracker.past_states(domain)}


def stock(db: Path, domain: Domain) -> SQLTrackerStore:
    return SQLTrackerStore(domain, db=str(db))


async def turn(store: SQLTrackerStore, events: list[dict[str, Any]]) -> DialogueStateTracker:
    """As Rasa's MessageProcessor: retrieve (or create), apply the turn's events, save once."""
    tracker = await store.get_or_create_tracker(SENDER, append_action_listen=False)
    for event in deserialise_events(events):
        tracker.update(event)
    await store.save(tracker)
    return tracker


def test_every_turn_reads_what_rasas_store_reads(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    ours, reader = UrlSQLTrackerStore(domain, url=f"sqlite:///{db}"), stock(db, domain)
    rasas = stock(tmp_path / "rasa.db", domain)  # Rasa's store alone, on its own database
    for events in turns():
        run(turn(ours, events))
        run(turn(rasas, events))
        cached = run(ours.retrieve(SENDER))
        assert view(cached, domain) == view(run(reader.retrieve(SENDER)), domain)
        run(ours.save(cached))  # nothing new: stays cached
    assert ours.cache.hits >= len(turns()) - 2
    stored = [{k: v for k, v in row.items() if k != "id"} for row in _rows(db)]
    assert stored == [{k: v for k, v in row.items() if k != "id"} for row in _rows(tmp_path / "rasa.db")]
    assert len(stored) == len(EVENTS)  # every event stored once, none twice


def test_a_hit_hands_out_the_saved_tracker_without_reading_the_events(tmp_path: Path, domain: Domain) -> None:
    ours = UrlSQLTrackerStore(domain, url=f"sqlite:///{tmp_path / 'tracker.db'}")
    saved = None
    for events in turns()[:3]:
        saved = run(turn(ours, events))
    assert run(ours.retrieve(SENDER)) is saved
    # handed out means taken: a second reader (Rasa's HTTP API, say) gets its own copy
    assert run(ours.retrieve(SENDER)) is not saved


def test_a_replica_that_missed_turns_reads_only_those_and_agrees_with_rasa(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    url = f"sqlite:///{db}"
    first, second = UrlSQLTrackerStore(domain, url=url), UrlSQLTrackerStore(domain, url=url)
    all_turns = turns()
    for index, events in enumerate(all_turns):
        # turns alternate between the replicas, as behind the load balancer; the lock store
        # serialises them
        run(turn(first if index % 3 else second, events))
    tracker = run(first.retrieve(SENDER))
    assert first.cache.partial >= 1
    assert view(tracker, domain) == view(run(stock(db, domain).retrieve(SENDER)), domain)
    assert len(_rows(db)) == len(EVENTS)


def test_a_failed_turn_leaves_no_stale_tracker(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    ours = UrlSQLTrackerStore(domain, url=f"sqlite:///{db}")
    for events in turns()[:3]:
        run(turn(ours, events))
    tracker = run(ours.retrieve(SENDER))
    # the turn fails after the message was applied (an action raised, the database went away)
    tracker.update(UserUttered("non salvato", {"name": "greet", "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))
    again = run(ours.retrieve(SENDER))
    assert again is not tracker
    assert view(again, domain) == view(run(stock(db, domain).retrieve(SENDER)), domain)
    assert all(getattr(e, "text", None) != "non salvato" for e in again.events)


def test_events_appended_after_the_save_are_not_taken_for_stored(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    ours = UrlSQLTrackerStore(domain, url=f"sqlite:///{db}")
    saved = None
    for events in turns()[:3]:
        saved = run(turn(ours, events))
    assert saved is not None
    saved.update(ActionExecuted("action_listen"))  # the caller kept using it, never saved it
    again = run(ours.retrieve(SENDER))
    assert again is not saved
    assert len(again.events) == len(saved.events) - 1


def test_purged_rows_and_a_new_session_are_read_from_the_store(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    url = f"sqlite:///{db}"
    ours, other = UrlSQLTrackerStore(domain, url=url), UrlSQLTrackerStore(domain, url=url)
    for events in turns()[:4]:
        run(turn(ours, events))
    engine = create_engine(url, future=True)
    with engine.begin() as connection:  # the retention purge
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": SENDER})
    assert run(ours.retrieve(SENDER)) is None
    for events in turns()[:4]:
        run(turn(ours, events))
    # another replica starts a new session: Rasa reads only the events from its start
    tracker = run(other.retrieve(SENDER))
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    run(other.save(tracker))
    fresh = run(ours.retrieve(SENDER))
    assert view(fresh, domain) == view(run(stock(db, domain).retrieve(SENDER)), domain)
    assert isinstance(fresh.events[0], SessionStarted)
    engine.dispose()


def test_another_model_empties_the_cache(tmp_path: Path, domain: Domain) -> None:
    ours = UrlSQLTrackerStore(domain, url=f"sqlite:///{tmp_path / 'tracker.db'}")
    for events in turns()[:3]:
        run(turn(ours, events))
    assert len(ours.cache) == 1
    ours.domain = domain  # what Agent does when it loads a model
    assert len(ours.cache) == 0


def _rows(db: Path) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{db}", future=True)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(text("SELECT * FROM events ORDER BY id"))]
    engine.dispose()
    return rows


# Incremental applied events and policy states (bot/tracker_history.py)


def _rasas(tracker: DialogueStateTracker, domain: Domain, **flags: Any) -> tuple[list[Event], list[Any]]:
    """Rasa's own applied events and states, from scratch, on a fresh tracker."""
    fresh = DialogueStateTracker.from_events(tracker.sender_id, list(tracker.events), domain.slots)
    with (
        patch.object(DialogueStateTracker, "applied_events", tracker_history.RASA_APPLIED_EVENTS),
        patch.object(Domain, "states_for_tracker_history", tracker_history.RASA_STATES_FOR_TRACKER_HISTORY),
    ):
        return fresh.applied_events(), domain.states_for_tracker_history(fresh, **flags)


def _with_reverts_restarts_and_loops() -> list[Event]:
    """The recorded conversation (a fallback loop, a rewind, the customer form), then an undo, a
    loop never seen before, a restart and the conversation again."""
    recorded = deserialise_events(EVENTS)
    extra: list[Event] = [
        ActionExecuted("action_listen"),
        UserUttered("ciao", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        ActionReverted(),
        ActionExecuted("action_listen"),
        UserUttered("vorrei pagare a rate", {"name": "request_installments", "confidence": 1.0}),
        ActionExecuted("installments_form"),
        ActiveLoop("installments_form"),
        ActionExecuted("action_listen"),
        UserUttered("100001", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("installments_form"),
        ActionExecuted("action_listen"),
        UserUttered("boh", {"name": "inform", "confidence": 1.0}),
        ActionExecuted("installments_form"),
        ActiveLoop(None),
        ActionExecuted("action_listen"),
        Restarted(),
        ActionExecuted("action_listen"),
    ]
    return [*recorded, *extra, *deserialise_events(EVENTS)]


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"omit_unset_slots": True},
        {"ignore_rule_only_turns": True, "rule_only_data": {"slots": ["customer_verified"], "loops": []}},
    ],
)
def test_incremental_states_are_rasas_after_every_event(domain: Domain, flags: dict[str, Any]) -> None:
    tracker_history.install()
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in _with_reverts_restarts_and_loops():
        tracker.update(event)
        if not isinstance(event, (ActionExecuted, UserUttered)):
            continue  # where the processor predicts; every event would be slow and no stronger
        applied, states = _rasas(tracker, domain, **flags)
        assert tracker.applied_events() == applied
        assert domain.states_for_tracker_history(tracker, **flags) == states
        # the featurizer edits the last state it gets: the next answer must not change
        domain.states_for_tracker_history(tracker, **flags)[-1].clear()
        assert domain.states_for_tracker_history(tracker, **flags) == states
