"""`DialogueStateTracker.copy` without replaying the conversation (issue 15), installed by
bot/rasa_main.py.

Rasa's MessageProcessor copies the tracker before every action it runs (`_run_action`: the
action gets a temporary tracker, in case its events are rejected), and its FormAction again
before validating; Rasa 3.6's `copy` is `travel_back_in_time(inf)`: a fresh tracker that replays
every event of the session. Profiled on a 400-turn conversation that was about a tenth of the
Rasa server's time at the end, growing with the session.

A tracker's state is, by Rasa's own rule, "re-creatable by processing all the events": the
replay ends where the tracker already is. So the copy takes the state instead of recomputing it:
the same event objects in a new deque, each slot copied (value, whether it was set), the active
loop copied (Rasa edits it in place), the latest action, message and bot utterance, the
follow-up action and the pause. Everything else is what `init_copy` gives a replay (no model id,
no sender source, no incremental-history memory: bot/tracker_history.py starts afresh on a copy,
as on Rasa's). tests/test_tracker_copy.py compares every attribute with Rasa's copy after every
event of the recorded conversation, reverts, loops and a restart included.

Slots are copied by `copy.copy`, which every new tracker does for each of the domain's 52 slots
(a copy, a replay, a tracker read from the store, the forms' temporary trackers: several per
message). Python's generic path for an object without a `__copy__` (`__reduce_ex__`, then
`copyreg.__newobj__` and `_reconstruct`) is replaced by what it amounts to for Rasa's slots (plain
objects with a `__dict__`, no `__slots__`, `__reduce__` or `__setstate__`): a new instance of the
same class holding the same attribute values, 33 µs for the 52 slots instead of 85. And the copy
no longer copies the slots twice (`init_copy` copied them before they were replaced).
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_compat import require

require("rasa", __name__)

# Rasa's own, for the equivalence tests
RASA_COPY = DialogueStateTracker.copy


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """Creates a duplicate of this tracker (the state Rasa's replay of every event would reach)."""
    # `init_copy` without its copies of the slots, which are replaced below
    duplicate = DialogueStateTracker(
        self.sender_id or DEFAULT_SENDER_ID, (), self._max_event_history, is_rule_tracker=self.is_rule_tracker
    )
    duplicate.events.extend(self.events)
    duplicate.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
    duplicate._paused = self._paused
    duplicate.followup_action = self.followup_action
    duplicate.latest_action = copy.copy(self.latest_action)
    duplicate.latest_message = self.latest_message
    duplicate.latest_bot_utterance = self.latest_bot_utterance
    duplicate.active_loop = copy.copy(self.active_loop)
    return duplicate


def copy_slot(self: Slot) -> Any:
    """`copy.copy(slot)`: what Python's generic copy makes of an object with a plain `__dict__`."""
    cls: Any = type(self)
    duplicate = cls.__new__(cls)
    duplicate.__dict__.update(self.__dict__)
    return duplicate


def install() -> None:
    DialogueStateTracker.copy = copy_tracker
    Slot.__copy__ = copy_slot
