"""The bonus sociale action against a fake billing client: the verdict and every amount come
from the rules engine, in integer cents, formatted by its one euro formatter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.bonus
import actions.common
from actions.bonus import ActionBonusSociale
from bot.rules import engine
from tests.harness.responses import said

RULES = {  # the billing API's answer for a day of 2026 (euros, as JSON numbers)
    "on": "2026-11-26",
    "isee_threshold_eur": 9796.0,
    "large_family_isee_threshold_eur": 20000.0,
    "large_family_min_children": 4,
    "automatic": True,
    "how": "Il bonus è automatico.",
    "disagio_fisico": "Il bonus per disagio fisico si chiede al Comune.",
    "deadlines": [],
}


class FakeBilling:
    def __init__(self, rules: dict[str, Any]) -> None:
        self.rules = rules

    def bonus_sociale_rules(self, on: Any | None = None) -> dict[str, Any]:
        return self.rules


@pytest.fixture
def backend(monkeypatch):
    def install(rules: dict[str, Any]) -> None:
        actions.common.billing.cache_clear()
        monkeypatch.setattr(
            actions.common.BillingClient, "from_settings", classmethod(lambda cls, *a: FakeBilling(rules))
        )

    yield install
    actions.common.billing.cache_clear()


def answer(text: str) -> str:
    latest = {"text": text, "intent": {"name": "ask_bonus_sociale", "confidence": 1.0}, "entities": []}
    dispatcher = CollectingDispatcher()
    asyncio.run(
        ActionBonusSociale().run(dispatcher, Tracker("unit", {}, latest, [], False, None, {}, "action_listen"), {})
    )
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "il bonus sociale? ISEE di 9.796 euro",
            "Con un ISEE di 9.796,00\u00a0€ rientra nella soglia di 9.796,00\u00a0€.",
        ),
        (
            "il bonus sociale? ISEE di 9.796,01 euro",
            "Con un ISEE di 9.796,01\u00a0€ non rientra nella soglia di 9.796,00\u00a0€.",
        ),
        (
            "bonus sociale con isee 15.000 e 4 figli",
            "Con un ISEE di 15.000,00\u00a0€ rientra nella soglia di 20.000,00\u00a0€ prevista per le famiglie numerose.",
        ),
        (
            "bonus sociale con isee 15.000 e due figli",
            "Con un ISEE di 15.000,00\u00a0€ non rientra nella soglia di 9.796,00\u00a0€.",
        ),
    ],
)
def test_the_verdict_and_amounts_come_from_the_engine(backend, message, expected):
    backend(RULES)
    assert expected in answer(message)


def test_thresholds_are_read_in_exact_cents(backend):
    # 8107.50 (the 2017-2019 threshold) is not exact as a binary float
    backend({**RULES, "isee_threshold_eur": 8107.5})
    text = answer("bonus sociale, isee 8.107,50")
    assert "La soglia ISEE in vigore è 8.107,50\u00a0€" in text and "rientra nella soglia di 8.107,50\u00a0€" in text


def test_the_action_keeps_no_copy_of_the_rule():
    assert not hasattr(actions.bonus, "_euros")
    assert actions.bonus.bonus_sociale_eligible is engine.bonus_sociale_eligible


def follow_up(text: str, slots: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    latest = {"text": text, "intent": {"name": "follow_up", "confidence": 1.0}, "entities": []}
    dispatcher = CollectingDispatcher()
    tracker = Tracker("unit", slots, latest, [], False, None, {}, "action_listen")
    events = asyncio.run(ActionBonusSociale().run(dispatcher, tracker, {}))
    return said(dispatcher.messages), events


def test_a_follow_up_keeps_the_isee_given_before(backend):
    # issue 16: "isee 15.000" first, then "e con 4 figli?": the large-family threshold applies
    backend(RULES)
    text, events = follow_up("e con 4 figli?", {"bonus_isee_cents": 1500000, "bonus_children": None})
    assert "Con un ISEE di 15.000,00\u00a0€ rientra nella soglia di 20.000,00\u00a0€" in text
    assert {"event": "slot", "timestamp": None, "name": "bonus_children", "value": 4} in events
    text, _ = follow_up("e se ho isee 21000?", {"bonus_isee_cents": 1500000, "bonus_children": 4})
    assert "Con un ISEE di 21.000,00\u00a0€ non rientra nella soglia di 20.000,00\u00a0€" in text


def test_when_to_apply_is_answered_from_the_rules(backend):
    backend(RULES)
    text, _ = follow_up("entro quando devo presentare la domanda?", {})
    assert "Il bonus è automatico." in text and "Con un ISEE" not in text
    backend({**RULES, "deadlines": ["La scadenza è il 30 maggio 2020."]})
    text, _ = follow_up("entro quando?", {})
    assert "30 maggio 2020" in text
