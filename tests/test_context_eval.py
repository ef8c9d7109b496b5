"""Issue 16: the conversation-context held-out set is held out (no message of it is trained on),
covers each pattern, expects only what the assistant has, and is judged by what the server did;
the order in which two requests are served; what a correction points at."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.context import corrected_slot, serving_order
from bot.domain import domain_intents, load_domain
from bot.ops.context_eval import Case, judge, load, repeated_three_times
from bot.ops.nlu_files import normalised, training_examples
from bot.settings import PROJECT_ROOT

PATTERNS = {"two requests", "follow-up stores", "follow-up bonus", "follow-up bill", "correction", "no topic"}


def test_the_set_is_held_out_and_covers_every_pattern():
    cases = load()
    assert {c.pattern for c in cases} == PATTERNS
    assert sum(c.pattern == "two requests" for c in cases) >= 8
    trained = {normalised(e) for _, e in training_examples()}
    # the message judged, the last of each conversation, is unseen (the turns before it set the
    # scene and may be plain answers like a codice fiscale or "grazie")
    assert not [c.turns[-1] for c in cases if normalised(c.turns[-1]) in trained]


def test_every_expected_step_exists():
    domain = load_domain()
    known = set(domain["actions"]) | set(domain["responses"]) | set(domain["forms"])
    for case in load():
        assert set(case.expect) <= known, case


def test_every_combined_intent_is_trained_and_served_by_a_rule():
    combined = [name for name in domain_intents() if "+" in name]
    trained = {intent for intent, _ in training_examples()}
    assert len(combined) >= 8 and set(combined) <= trained
    rules = (PROJECT_ROOT / "data" / "rules.yml").read_text(encoding="utf-8")
    assert all(f"intent: {name}\n" in rules for name in combined)


@pytest.mark.parametrize(
    "intent, order",
    [
        ("check_bills+find_store", ["find_store", "check_bills"]),
        ("request_installments+ask_bonus_sociale", ["ask_bonus_sociale", "request_installments"]),
        ("find_store+request_human", ["find_store", "request_human"]),
        ("check_bills+request_deferral", ["check_bills", "request_deferral"]),
        ("ask_late_interest+find_store", ["find_store", "ask_late_interest"]),
        ("ask_bonus_sociale+find_store", ["ask_bonus_sociale", "find_store"]),
    ],
)
def test_the_request_that_needs_no_identification_is_served_first(intent, order):
    assert serving_order(intent) == order


def tracker(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"events": events}


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text}


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_judging_by_the_actions_the_answer_and_no_question_three_times():
    case = Case("follow-up stores", ("dove siete ad Arezzo?", "e a Siena?"), ("action_find_store",), ("Siena",))
    ran = tracker([user("dove siete ad Arezzo?"), action("action_find_store"), user("e a Siena?")])
    assert judge(case, [{"text": "Lo sportello di Siena è in via ..."}], ran) == (
        False,
        "ran [], not ['action_find_store']",
    )
    ran["events"] += [action("action_find_store"), bot("Lo sportello di Siena")]
    assert judge(case, [{"text": "Lo sportello di Siena è in via ..."}], ran) == (True, "")
    assert not judge(case, [{"text": "Lo sportello di Arezzo"}], ran)[0]
    asked = [user("x"), bot("In quale comune cerca lo sportello?")] * 3
    assert repeated_three_times(tracker(asked)) == "in quale comune cerca lo sportello?"
    assert repeated_three_times(tracker([*asked[:4], user("y"), bot("Altro"), *asked[:2]])) is None


def rasa_tracker(text: str, entities: list[dict[str, Any]], events: list[dict[str, Any]], **slots: Any) -> Tracker:
    latest = {"text": text, "intent": {"name": "correct_value"}, "entities": entities}
    return Tracker("unit", slots, latest, events, False, None, {"name": "customer_form"}, "action_listen")


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def test_a_correction_points_at_the_datum_it_names_or_else_the_last_given():
    given = [slot("customer_code", "100001"), slot("requested_slot", "fiscal_code")]
    code = [{"entity": "customer_code", "value": "100003"}]
    assert corrected_slot(rasa_tracker("scusi ho sbagliato, il codice è 100003", code, given)) == "customer_code"
    assert corrected_slot(rasa_tracker("il codice fiscale era sbagliato", [], given)) == "fiscal_code"
    assert corrected_slot(rasa_tracker("ho sbagliato", [], given)) == "customer_code"
    town = [{"entity": "city", "value": "Siena"}]
    assert corrected_slot(rasa_tracker("no, intendevo Siena", town, [slot("city", "Arezzo")])) == "city"
    assert corrected_slot(rasa_tracker("ops", [], [])) is None
