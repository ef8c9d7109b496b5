"""The two-stage fallback's choices, run through the real rasa-sdk executor."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import ActionExecutor

from actions.fallback import suggested_intents
from tests.harness.responses import rendered


def _ranking(*names):
    return [{"name": name, "confidence": 1.0 / (i + 2)} for i, name in enumerate(names)]


def test_suggestions_skip_intents_a_customer_would_not_pick():
    ranking = _ranking("nlu_fallback", "affirm", "check_bills", "inform", "request_deferral",
                       "greet", "request_installments", "find_store")
    assert suggested_intents(ranking) == ["check_bills", "request_deferral", "request_installments"]


def _run(action_name, latest_message, slots=None):
    executor = ActionExecutor()
    executor.register_package("actions")
    request = {
        "next_action": action_name,
        "sender_id": "unit",
        "tracker": {
            "sender_id": "unit",
            "slots": slots or {},
            "latest_message": latest_message,
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
        "domain": {"responses": {}},
    }
    return asyncio.run(executor.run(request))


def test_affirmation_offers_top_intents_and_none_of_these():
    response = _run(
        "action_default_ask_affirmation",
        {"text": "bolletta", "intent": {"name": "nlu_fallback"},
         "intent_ranking": _ranking("nlu_fallback", "check_bills", "request_installments")},
    )
    buttons = response["responses"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/check_bills", "/request_installments", "/out_of_scope"]
    assert buttons[0]["title"] == "Sapere lo stato delle bollette"


def test_giving_up_offers_a_human_and_remembers_the_offer():
    response = _run("action_default_fallback", {"text": "boh", "intent": {"name": "nlu_fallback"}})
    assert "operatore" in rendered(response["responses"])[0]["text"]
    assert [e["event"] for e in response["events"]] == ["rewind", "slot", "slot"]
    slots = {e["name"]: e["value"] for e in response["events"][1:]}
    assert slots == {"handoff_offered": True, "handoff_reason": "fallback"}


def test_outage_mentions_gas_safety_only_for_gas(monkeypatch):
    from bot.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setenv("EMERGENCY_NUMBER_GAS", "800 111 222")
    try:
        gas = _run("action_report_outage", {"text": "c'è odore di gas", "intent": {"name": "report_outage"}, "entities": []})
        power = _run("action_report_outage", {"text": "manca la corrente", "intent": {"name": "report_outage"}, "entities": []})
    finally:
        get_settings.cache_clear()
    gas, power = rendered(gas["responses"]), rendered(power["responses"])
    assert "finestre" in gas[0]["text"] and "800 111 222" in gas[0]["text"]
    assert len(power) == 1 and "finestre" not in power[0]["text"]
