"""No question three times in a row (issue 16), installed by bot/rasa_main.py.

The identity questions have their own way out after two unproductive answers (issue 13,
`offer_way_out`); every other question — the town of a store, a date, a number of installments,
which bill — gets this one: when the assistant is about to end its answer with the same question
it ended its two previous answers with, the question is replaced by `utter_no_progress` (ask in
other words, stop, or a person: a plain "sì" accepts the person, `handoff_offered`). The check
is on the messages Rasa is about to log and send, so it holds for every action and rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.folding import fold

WAY_OUT = "utter_no_progress"
# the identity form's questions have their own way out (issue 13, counted on unproductive
# answers only): an aside answered in between ("e lo sportello di Arezzo?") or a switch to
# another request is not a failure to answer them
OWN_WAY_OUT = frozenset({"utter_customer_code_please", "utter_fiscal_code_please", "utter_supply_point_please"})
TIMES = 3  # the third time is replaced


def previous_answers(tracker: DialogueStateTracker, count: int) -> list[str]:
    """The last message of each of the assistant's `count` previous answers (folded), latest
    first; an answer is what it said between two messages of the customer."""
    answers: list[str] = []
    seen_user = False
    last_in_turn: str | None = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user and last_in_turn is not None:
                answers.append(last_in_turn)
                if len(answers) == count:
                    break
            seen_user = True
            last_in_turn = None
        elif seen_user and isinstance(event, BotUttered) and last_in_turn is None:
            last_in_turn = fold(event.text or "")
    return answers


def is_question(text: str | None) -> bool:
    return bool(text) and "?" in str(text)


def replace_third_time(events: list[Event], tracker: DialogueStateTracker, way_out: dict[str, Any]) -> list[Event]:
    """`events` with a question asked for the third time in a row replaced by the way out."""
    said = [i for i, e in enumerate(events) if isinstance(e, BotUttered)]
    if not said:
        return events
    last = events[said[-1]]
    assert isinstance(last, BotUttered)
    if not is_question(last.text) or (last.metadata or {}).get("utter_action") in OWN_WAY_OUT:
        return events
    before = previous_answers(tracker, TIMES - 1)
    if len(before) < TIMES - 1 or any(answer != fold(last.text or "") for answer in before):
        return events
    data = {"buttons": way_out.get("buttons") or []}
    replaced = BotUttered(str(way_out.get("text") or ""), data, {"utter_action": WAY_OUT})
    return [*events[: said[-1]], replaced, *events[said[-1] + 1 :], SlotSet("handoff_offered", True)]


def way_out_response(processor: MessageProcessor) -> dict[str, Any] | None:
    variations: Iterable[dict[str, Any]] = processor.domain.responses.get(WAY_OUT) or []
    return next(iter(variations), None)


_original_log = MessageProcessor._log_action_on_tracker


@functools.wraps(_original_log)
def _log_action_on_tracker(self: MessageProcessor, tracker: DialogueStateTracker, action, events, prediction):
    way_out = way_out_response(self)
    if events and way_out is not None:
        events[:] = replace_third_time(list(events), tracker, way_out)
    return _original_log(self, tracker, action, events, prediction)


def install() -> None:
    MessageProcessor._log_action_on_tracker = _log_action_on_tracker
