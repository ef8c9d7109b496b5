"""The tracker copy without replay (bot/tracker_copy.py) is Rasa's copy: after every event of the
recorded conversation, with an undo, a loop's happy path, a pause and a restart, every attribute
of the copy equals the one Rasa's replaying `copy` builds; and the copy is independent of the
original, as Rasa's is."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    Event,
    LoopInterrupted,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import tracker_copy
from bot.settings import PROJECT_ROOT
from tests.test_tracker_cache import SENDER, _with_reverts_restarts_and_loops


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def attributes(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Every attribute of a tracker, slots as their own attributes, events as the objects.

    The incremental history's caches (`_issue15_*`, bot/tracker_history.py, installed when
    another test has started Rasa's server code in this process) are left out: a tracker
    without them computes its history from scratch, as Rasa does."""
    state = {key: value for key, value in vars(tracker).items() if not key.startswith("_issue15_")}
    state["slots"] = {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}
    state["events"] = [id(event) for event in tracker.events]
    state["active_loop"] = vars(tracker.active_loop) if tracker.active_loop else None
    return state


def events() -> list[Event]:
    more: list[Event] = [
        ConversationPaused(),
        ActionExecuted("action_listen"),
        ConversationResumed(),
        LoopInterrupted(True),
    ]
    return [*_with_reverts_restarts_and_loops(), *more]


def test_the_copy_has_every_attribute_of_rasas_copy_after_every_event(domain: Domain) -> None:
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in events():
        tracker.update(event)
        assert attributes(tracker_copy.copy_tracker(tracker)) == attributes(tracker_copy.RASA_COPY(tracker))


def test_the_copy_is_independent_of_the_original(domain: Domain) -> None:
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in events()[:40]:
        tracker.update(event)
    tracker.update(ActionExecuted("customer_form"))
    tracker.change_loop_to("customer_form")
    before = attributes(tracker)
    duplicate = tracker_copy.copy_tracker(tracker)
    duplicate.update(SlotSet("customer_code", "100001"))
    duplicate.update(ActionExecuted("action_listen"))
    duplicate.interrupt_loop(True)
    duplicate.reject_action("customer_form")
    assert attributes(tracker) == before
    assert duplicate.get_slot("customer_code") == "100001"
    assert tracker.active_loop is not None and not tracker.active_loop.is_interrupted


def test_a_slot_copy_is_pythons_generic_copy(domain: Domain) -> None:
    """copy_slot against what `copy.copy` does for an object without `__copy__`."""
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in events():
        tracker.update(event)
    assert any(slot.value is not None for slot in tracker.slots.values())
    for slot in tracker.slots.values():
        generic = copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # type: ignore[attr-defined]
        ours = tracker_copy.copy_slot(slot)
        assert type(ours) is type(generic) is type(slot) and ours is not slot
        assert vars(ours) == vars(generic) == vars(slot)
        ours.value = "changed"
        assert slot.value != "changed"
