"""The forms' questions that are one domain.yml response under another name
(actions/common.AskWithResponse): each says its response; the identity form's questions
(actions/identity.py) give way, once, to the way out offered instead of them this turn.
Through rasa-sdk's executor, as the action server runs them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.common import AskWithResponse

QUESTIONS = {
    "action_ask_debit_holder": "utter_debit_holder_please",
    "action_ask_iban": "utter_iban_please",
    "action_ask_paperless_email": "utter_paperless_email_please",
    "action_ask_customer_code": "utter_customer_code_please",
    "action_ask_fiscal_code": "utter_fiscal_code_please",
    "action_ask_supply_point": "utter_supply_point_please",
}
IDENTITY = ("action_ask_customer_code", "action_ask_fiscal_code", "action_ask_supply_point")


def run(name: str, **slots: Any) -> tuple[list[str], list[dict[str, Any]]]:
    executor = ActionExecutor()
    executor.register_package("actions")
    dispatcher = CollectingDispatcher()
    tracker = Tracker("q-1", slots, {}, [], False, None, {}, "action_listen")
    events = asyncio.run(executor.actions[name](dispatcher, tracker, {}))
    return [message["response"] for message in dispatcher.messages], events


def test_every_question_of_this_kind_is_registered_and_the_abstract_ones_are_not():
    executor = ActionExecutor()
    executor.register_package("actions")
    kind = {name for name, run in executor.actions.items() if isinstance(run.__self__, AskWithResponse)}
    assert kind == set(QUESTIONS)


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_each_question_says_its_response(name):
    assert run(name) == ([QUESTIONS[name]], [])


@pytest.mark.parametrize("name", IDENTITY)
def test_an_identity_question_gives_way_to_the_way_out_just_offered(name):
    said, events = run(name, way_out_offered=True)
    assert said == [] and events == [{"event": "slot", "timestamp": None, "name": "way_out_offered", "value": False}]


def test_the_other_questions_are_asked_whatever_the_way_out():
    assert run("action_ask_iban", way_out_offered=True) == (["utter_iban_please"], [])
