"""The action call's body with the recent events and the older user messages only (issue 15),
installed by bot/rasa_main.py.

Rasa sends the action server the whole session on every custom action call
(`RemoteAction._action_call_format`: `tracker.current_state(ALL)`). Profiled on a 400-turn
conversation, building and encoding that body was about a seventh of the Rasa server's time at
the end, and the action server parsed it again on every call (800 KB at turn 400): the one cost
of a turn that still grew with the session.

What the actions read of `tracker.events` (rasa-sdk's helpers included):
- rasa-sdk: the latest user message and input channel, the slots set since the last action (form
  validation), the last action executed: the last turns;
- actions/customer_form.py: the slot events at the end;
- bot/support/handoff.py `conversation_summary` (handoff and complaint tickets): the last eight
  messages, and the intents of every user message of the session;
- actions/bill_copy.py `request_text`: the text of the latest user message with a given intent,
  however far back.

So the body keeps every event from the action_listen before the RECENT_USER_TURNS-th last user
message on, as Rasa sends them, and of the events before it only the user messages, reduced to
what is read of them (text, intent, time, channel, message id). The slots, the latest message,
the active loop and the rest of the tracker's state are Rasa's, computed from the whole tracker.
tests/test_action_window.py checks that the summary, the request text and rasa-sdk's helpers give
the same answers from this body as from Rasa's, after every event of long conversations.
"""

from __future__ import annotations

from typing import Any

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.rasa_compat import require

require("rasa", __name__)

RECENT_USER_TURNS = 10  # the ticket summary shows the last 8 messages
RASA_ACTION_CALL_FORMAT = RemoteAction._action_call_format


def window_start(events: list[Event], turns: int = RECENT_USER_TURNS) -> int:
    """Index of the first event sent whole: the action before the `turns`-th last user message
    (0 when the session has no more user messages than that)."""
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                before = index - 1
                while before >= 0 and not isinstance(events[before], ActionExecuted):
                    before -= 1
                return max(before, 0)
    return 0


def reduced(event: UserUttered) -> dict[str, Any]:
    """An older user message as the actions read it."""
    intent = event.intent or {}
    return {
        "event": UserUttered.type_name,
        "timestamp": event.timestamp,
        "text": event.text,
        "parse_data": {"intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}},
        "input_channel": event.input_channel,
        "message_id": event.message_id,
    }


def body_events(tracker: DialogueStateTracker, turns: int = RECENT_USER_TURNS) -> list[dict[str, Any]]:
    events = list(tracker.events)
    start = window_start(events, turns)
    older = [reduced(e) for e in events[:start] if isinstance(e, UserUttered)]
    return older + [e.as_dict() for e in events[start:]]


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """Rasa 3.6's `_action_call_format`, with the tracker's events as `body_events` gives them."""
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = body_events(tracker)
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    RemoteAction._action_call_format = action_call_format
