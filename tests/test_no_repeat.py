"""Issue 16: the assistant never ends three answers in a row with the same question
(bot/no_repeat.py): the third time the question gives way to the ways out."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain import domain_responses
from bot.no_repeat import WAY_OUT, previous_answers, replace_third_time

QUESTION = "In quale comune cerca lo sportello?"
WAY = domain_responses()[WAY_OUT][0]


def conversation(*turns: tuple[str, list[str]]) -> DialogueStateTracker:
    tracker = DialogueStateTracker("unit", [])
    for user, answers in turns:
        tracker.update(UserUttered(user))
        tracker.update(ActionExecuted("action_find_store"))
        for text in answers:
            tracker.update(BotUttered(text))
    tracker.update(UserUttered("ancora"))
    return tracker


def test_the_third_same_question_gives_the_ways_out():
    tracker = conversation(("sportello", [QUESTION]), ("boh", ["Non trovo il comune.", QUESTION]))
    assert previous_answers(tracker, 2) == ["in quale comune cerca lo sportello?"] * 2
    events = replace_third_time([BotUttered(QUESTION)], tracker, WAY)
    assert isinstance(events[0], BotUttered) and "due volte" in (events[0].text or "")
    assert events[0].data["buttons"] and events[-1] == SlotSet("handoff_offered", True)


def test_twice_or_with_something_else_between_is_left_alone():
    twice = conversation(("sportello", [QUESTION]))
    assert replace_third_time([BotUttered(QUESTION)], twice, WAY)[0].text == QUESTION
    between = conversation(("sportello", [QUESTION]), ("grazie", ["Prego!"]), ("x", [QUESTION]))
    assert replace_third_time([BotUttered(QUESTION)], between, WAY)[0].text == QUESTION


def test_only_questions_count():
    same = "Ecco gli sportelli di Siena."
    tracker = conversation(("a", [same]), ("b", [same]))
    assert replace_third_time([BotUttered(same)], tracker, WAY)[0].text == same


def test_the_identity_questions_keep_their_own_way_out():
    # "vorrei pagare a rate", an aside on a store, a switch to the bills: the code is asked
    # three times in a row without an unproductive answer; the identity form counts those itself
    code = "Mi scrive il codice cliente?"
    tracker = conversation(("rate", [code]), ("sportello di Arezzo?", ["Store Arezzo...", code]))
    asked = BotUttered(code, {}, {"utter_action": "utter_customer_code_please"})
    assert replace_third_time([asked], tracker, WAY)[0].text == code
