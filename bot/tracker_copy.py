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
"""

from __future__ import annotations

import copy

from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_compat import require

require("rasa", __name__)

# Rasa's own, for the equivalence tests
RASA_COPY = DialogueStateTracker.copy


def copy_tracker(self: DialogueStateTracker) -> DialogueStateTracker:
    """Creates a duplicate of this tracker (the state Rasa's replay of every event would reach)."""
    duplicate = self.init_copy()
    duplicate.events.extend(self.events)
    duplicate.slots = {name: copy.copy(slot) for name, slot in self.slots.items()}
    duplicate._paused = self._paused
    duplicate.followup_action = self.followup_action
    duplicate.latest_action = copy.copy(self.latest_action)
    duplicate.latest_message = self.latest_message
    duplicate.latest_bot_utterance = self.latest_bot_utterance
    duplicate.active_loop = copy.copy(self.active_loop)
    return duplicate


def install() -> None:
    DialogueStateTracker.copy = copy_tracker
