"""The action call's body with the recent events (bot/action_window.py) gives the actions what
Rasa's whole body gives them: after every event of a long conversation (the recorded one five
times over, with its fallback and rewind, the customer form and the pause, then an undo, a loop and
a restart), the tracker state but the events is Rasa's, and from both bodies the handoff summary,
the bill request's words, rasa-sdk's helpers and the customer form's trailing slot events are the
same."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

from actions.bill_copy import request_text
from bot import action_window
from bot.settings import PROJECT_ROOT
from bot.support.handoff import conversation_summary
from tests.support.recorded import EVENTS
from tests.test_tracker_cache import SENDER, _with_reverts_restarts_and_loops


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def long_conversation() -> list[Event]:
    again = [e for e in EVENTS if e["event"] != "session_started" and e.get("name") != "action_session_start"]
    # a request whose words the bill-copy service reads back many turns later
    copy_request: list[Event] = [
        ActionExecuted("action_listen"),
        UserUttered("mi serve la bolletta di settembre", {"name": "request_bill_copy", "confidence": 0.97}),
        ActionExecuted("customer_form"),
    ]
    return [
        *deserialise_events(EVENTS),
        *copy_request,
        *(deserialise_events(again) * 4),
        *_with_reverts_restarts_and_loops(),
    ]


def sdk_tracker(state: dict[str, Any], **slots: Any) -> Tracker:
    return Tracker.from_dict({**state, "slots": {**state["slots"], **slots}})


def what_actions_read(tracker: Tracker) -> dict[str, Any]:
    events = tracker.events
    trailing = len(events)
    while trailing and events[trailing - 1].get("event") == "slot":
        trailing -= 1
    return {
        "summary": conversation_summary(tracker.events, tracker.current_slot_values(), "rest", "request_human"),
        "channel": tracker.get_latest_input_channel(),
        "latest_message": tracker.latest_message,
        "slots_to_validate": tracker.slots_to_validate(),
        "last": {kind: tracker.get_last_event_for(kind) for kind in ("user", "bot", "slot")},
        "last_action": tracker.get_last_event_for("action", exclude=["action_listen"]),
        "action_before": tracker.get_last_event_for("action", exclude=["action_listen"], skip=1),
        "trailing_slots": events[trailing:],
        "latest_action_name": tracker.latest_action_name,
        "active_loop": tracker.active_loop,
        "paused": tracker.is_paused(),
    }


def test_every_action_call_reads_from_the_window_what_it_reads_from_the_whole_session(domain: Domain) -> None:
    action = RemoteAction("action_request_human", EndpointConfig("http://127.0.0.1:1/webhook"))
    tracker = DialogueStateTracker(SENDER, domain.slots)
    checked = 0
    for event in long_conversation():
        tracker.update(event)
        if not isinstance(event, (ActionExecuted, UserUttered)):
            continue  # an action call happens after a prediction
        whole = action_window.RASA_ACTION_CALL_FORMAT(action, tracker, domain)
        windowed = action_window.action_call_format(action, tracker, domain)
        assert {**windowed, "tracker": None} == {**whole, "tracker": None}
        assert {**windowed["tracker"], "events": None} == {**whole["tracker"], "events": None}
        assert what_actions_read(sdk_tracker(windowed["tracker"])) == what_actions_read(sdk_tracker(whole["tracker"]))
        for service in ("bill_copy", "explanation"):
            assert request_text(sdk_tracker(windowed["tracker"], service=service)) == request_text(
                sdk_tracker(whole["tracker"], service=service)
            )
        checked += 1
    users = sum(isinstance(e, UserUttered) for e in tracker.events)
    assert checked > 100 and users > 3 * action_window.RECENT_USER_TURNS
    # and the body is shorter: the older turns are reduced to their user messages
    assert len(windowed["tracker"]["events"]) < len(whole["tracker"]["events"]) / 2
    assert request_text(sdk_tracker(windowed["tracker"], service="bill_copy")) == "mi serve la bolletta di settembre"


def test_a_short_session_is_sent_whole(domain: Domain) -> None:
    tracker = DialogueStateTracker(SENDER, domain.slots)
    for event in deserialise_events(EVENTS):
        tracker.update(event)
    assert action_window.body_events(tracker) == [e.as_dict() for e in tracker.events]
