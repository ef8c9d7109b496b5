"""Incremental `applied_events` and policy states for Rasa 3.6 trackers (issue 15), installed by
bot/rasa_main.py.

With the tracker kept between turns (bot/tracker_cache.py), what still grew with the session was
Rasa recomputing the dialogue's history from its first event for every prediction:
`DialogueStateTracker.applied_events()` walks every event, and `Domain.states_for_tracker_history`
(the policies' featurisation: RulePolicy and MemoizationPolicy call it for every action they
predict, though only the last few states matter) replays every event into a fresh tracker and
builds a state per action. Profiled on a 300-turn conversation, that was a fifth of the time.

Both are remembered on the tracker object and continued from where they stopped, with Rasa's own
code for each step, so the result is the one Rasa computes from scratch:

- `applied_events`: the events seen so far and the list they produced. New events (appended after
  those, the same objects) go through Rasa's loop body; if one of them names a loop never seen
  before (Rasa decides how to treat a loop's earlier executions from every loop name in the
  tracker), or the events are not an extension of those seen, it is computed from scratch.
- RulePolicy's debug line with every past state is formatted only when debug logging is on.
- states: the replay tracker and the states up to the last applied event, valid while the applied
  events only grew by appending. A revert, a restart, a new session or a loop's happy path
  removes applied events: then the states are computed from scratch, as Rasa does.

A tracker built another way (Rasa's `copy`, one loaded from the store) starts without memory.
"""

from __future__ import annotations

import copy
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from rasa.core.policies.policy import Policy
from rasa.shared.core import constants
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

_APPLIED = "_issue15_applied"
# Rasa's own, for the equivalence tests (tests/test_tracker_cache.py)
RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events
RASA_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
_STATES = "_issue15_states"


@dataclass
class _Applied:
    seen: int = 0
    last: Event | None = None
    loop_names: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)
    # bumped whenever the list changed other than by appending: the states must be recomputed
    version: int = 0


@dataclass
class _States:
    version: int
    applied: int  # applied events replayed into `replay`
    replay: DialogueStateTracker
    states: list[State]  # one per ActionExecuted among them, as Rasa builds them
    last_ml_action_sub_state: Any
    turn_was_hidden: bool


def _apply(tracker: DialogueStateTracker, memo: _Applied, new_events: list[Event]) -> None:
    """Rasa 3.6's `applied_events` loop body over `new_events`, continuing `memo`."""
    for event in new_events:
        if isinstance(event, (Restarted, SessionStarted)):
            memo.events = []
            memo.version += 1
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, memo.events)
            memo.version += 1
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, memo.events)
            tracker._undo_till_previous(ActionExecuted, memo.events)
            memo.version += 1
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in memo.loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, memo.events)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, memo.events)
            memo.version += 1
        else:
            memo.events.append(event)


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """Returns all actions that should be applied - w/o reverted events (Rasa's, incremental)."""
    events = self.events
    memo: _Applied | None = self.__dict__.get(_APPLIED)
    count = len(events)
    new: list[Event] = []
    if memo is not None and memo.seen <= count and (memo.seen == 0 or events[memo.seen - 1] is memo.last):
        new = list(itertools.islice(events, memo.seen, count))
        if any(isinstance(e, ActiveLoop) and e.name and e.name not in memo.loop_names for e in new):
            memo = None
    else:
        memo = None
    if memo is None:
        previous = self.__dict__.get(_APPLIED)
        memo = _Applied(loop_names={e.name for e in events if isinstance(e, ActiveLoop) and e.name})
        memo.version = previous.version + 1 if previous is not None else 0
        new = list(events)
        self.__dict__[_APPLIED] = memo
    _apply(self, memo, new)
    memo.seen = count
    memo.last = events[-1] if count else None
    return list(memo.events)


def _step(
    domain: Domain,
    memo: _States,
    tracker: DialogueStateTracker,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """Rasa 3.6's `states_for_tracker_history` loop body for one prior tracker."""
    if ignore_rule_only_turns:
        if not memo.turn_was_hidden:
            memo.last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
            memo.turn_was_hidden = hide_rule_turn
        if memo.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if memo.states:
            domain._substitute_rule_only_user_input(state, memo.states[-1])
        if memo.last_ml_action_sub_state:
            state[constants.PREVIOUS_ACTION] = cast(SubState, memo.last_ml_action_sub_state)
    memo.states.append(domain._clean_state(state))


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """List of states for each state of the tracker's history (Rasa's, incremental)."""
    applied = tracker.applied_events()
    version = tracker.__dict__[_APPLIED].version if _APPLIED in tracker.__dict__ else -1
    key = (id(self), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    memos: dict[Any, _States] = tracker.__dict__.setdefault(_STATES, {})
    memo = memos.get(key)
    if memo is None or memo.version != version or memo.applied > len(applied) or version < 0:
        memo = _States(version, 0, tracker.init_copy(), [], None, False)
    for event in applied[memo.applied :]:
        if isinstance(event, ActionExecuted):
            _step(
                self, memo, memo.replay, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns, rule_only_data
            )
        memo.replay.update(event)
    memo.applied = len(applied)
    memos[key] = memo
    # the last state (after every applied event) is Rasa's final `yield tracker, False`: computed
    # on a copy of the loop's variables, since the next call continues from before it
    final = _States(
        version, memo.applied, memo.replay, list(memo.states), memo.last_ml_action_sub_state, memo.turn_was_hidden
    )
    _step(self, final, memo.replay, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    if final.states:
        # the featurizer edits the last state in place (it drops the intent or the text of the
        # last user input): never one the memory keeps
        final.states[-1] = copy.deepcopy(final.states[-1])
    return final.states


_rasa_format_tracker_states = Policy.format_tracker_states


def format_tracker_states(states: list[dict[str, Any]]) -> str:
    """RulePolicy formats every past state for one debug line on each prediction, whether or not
    debug logging is on: formatted only when it is."""
    if not logging.getLogger("rasa").isEnabledFor(logging.DEBUG):
        return ""
    return str(_rasa_format_tracker_states(states))


def install() -> None:
    Policy.format_tracker_states = staticmethod(format_tracker_states)
    DialogueStateTracker.applied_events = applied_events
    Domain.states_for_tracker_history = states_for_tracker_history
