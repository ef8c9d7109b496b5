"""Issue 16's actions in-process (actions/context.py): what two requests in one message say and
set, what a follow-up on a bill prepares for the form, what a correction replaces or asks again.
The customer form's own steps are exercised over REST (tests/test_context_conversations.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import (
    ActionCorrectValue,
    ActionFollowUpBill,
    ActionNextRequest,
    ActionSplitRequest,
    acknowledge_correction,
)
from tests.harness.responses import said


def run(
    action: Action,
    intent: str,
    text: str = "",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    form: bool = False,
) -> tuple[str, dict[str, Any]]:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    loop = {"name": "customer_form"} if form else {}
    tracker = Tracker("unit", slots or {}, latest, events or [], False, None, loop, "action_listen")
    dispatcher = CollectingDispatcher()
    returned = asyncio.run(action.run(dispatcher, tracker, {}))
    return said(dispatcher.messages), {e["name"]: e["value"] for e in returned if e.get("event") == "slot"}


def test_bills_and_a_store_says_both_store_first_and_sets_the_service():
    text, slots = run(ActionSplitRequest(), "check_bills+find_store")
    assert text == "Le rispondo su entrambe le cose: prima lo sportello, poi le Sue bollette."
    assert slots == {"service": "bills", "pending_request": None, "topic": "bills"}


def test_two_account_requests_keep_the_second_waiting():
    text, slots = run(ActionSplitRequest(), "check_bills+request_deferral")
    assert "prima le Sue bollette, poi lo spostamento della scadenza" in text
    assert slots == {"service": "bills", "pending_request": "request_deferral", "topic": "deferral"}
    text, slots = run(ActionNextRequest(), "inform", slots={"pending_request": "ask_late_interest"})
    assert "seconda richiesta: gli interessi di mora" in text and "interessi" in text.split(".", 1)[1]
    assert slots == {"pending_request": None, "service": "interest", "topic": "interest"}


def test_late_interest_and_a_store_the_store_first():
    text, slots = run(ActionSplitRequest(), "ask_late_interest+find_store")
    assert "prima lo sportello, poi gli interessi di mora" in text
    assert slots == {"service": "interest", "pending_request": None, "topic": "interest"}


def test_nothing_pending_means_nothing_said():
    text, slots = run(ActionNextRequest(), "inform", slots={"pending_request": None})
    assert text == "" and slots == {"pending_request": None}


def test_a_date_after_a_bill_asks_the_interest_on_the_same_bill():
    _, slots = run(ActionFollowUpBill(), "follow_up", "e se pago il 20?", {"topic": "bills", "topic_bill": "F1"})
    assert slots == {"service": "interest", "payment_date": "e se pago il 20?", "bill_id": "F1"}


def test_a_number_of_installments_or_when_after_a_deferral():
    count = [{"entity": "installment_count", "value": "6"}]
    _, slots = run(ActionFollowUpBill(), "follow_up", "e in 6 rate?", {"topic": "installments"}, count)
    assert slots == {"service": "installments", "installment_count": "6"}
    _, slots = run(ActionFollowUpBill(), "follow_up", "entro quando?", {"topic": "deferral", "topic_bill": "F2"})
    assert slots == {"service": "deferral", "bill_id": "F2"}


def test_a_corrected_code_replaces_the_old_one_and_a_verified_identity_is_checked_again():
    code = [{"entity": "customer_code", "value": "100003"}]
    text, slots = run(ActionCorrectValue(), "correct_value", "scusi, il codice è 100003", entities=code, form=True)
    assert text == "Nessun problema, ho corretto il codice cliente: 100003." and slots == {"customer_code": "100003"}
    verified = {"customer_verified": True, "customer_token": "t", "customer_code": "100001"}
    text, slots = run(ActionCorrectValue(), "correct_value", "il codice è 100003", verified, code, form=True)
    assert "verificare di nuovo" in text
    assert slots["customer_verified"] is None and slots["customer_token"] is None and slots["customer_code"] == "100003"


def test_a_corrected_codice_fiscale_is_repeated_only_masked():
    fiscal = [{"entity": "fiscal_code", "value": "RSSMRA80A01H501U"}]
    text, _ = run(ActionCorrectValue(), "correct_value", "è RSSMRA80A01H501U", entities=fiscal, form=True)
    assert "RSSMRA80A01H501U" not in text and "RSS*********501U" in text


def test_a_correction_without_a_value_asks_again_the_last_value_given():
    given = [{"event": "slot", "name": "customer_code", "value": "100004"}]
    text, slots = run(ActionCorrectValue(), "correct_value", "ho sbagliato", events=given, form=True)
    assert text == "Nessun problema, correggiamo il codice cliente."
    assert slots == {"customer_code": None, "requested_slot": "customer_code"}


def test_a_correction_outside_a_request_asks_which_datum():
    text, slots = run(ActionCorrectValue(), "correct_value", "scusi ho sbagliato")
    assert "Quale dato vuole correggere?" in text and slots == {}


def test_a_corrected_code_the_form_takes_as_it_stands_is_acknowledged():
    # "scusi ho sbagliato, il codice è 100003" while the codice fiscale is asked: the form takes
    # the extracted code; the customer is told, and a verified identity is verified again
    events = [
        {"event": "slot", "name": "customer_code", "value": "100001"},
        {"event": "user", "text": "scusi ho sbagliato, il codice è 100003"},
        {"event": "slot", "name": "customer_code", "value": "100003"},
    ]
    latest = {"text": "il codice è 100003", "intent": {"name": "correct_value"}, "entities": []}
    for verified, resets in ((None, False), (True, True)):
        tracker = Tracker("unit", {"customer_verified": verified}, latest, events, False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        reset = acknowledge_correction(dispatcher, tracker, {"customer_code": "100003"})
        assert "ho corretto il codice cliente: 100003" in said(dispatcher.messages)
        assert any(e["name"] == "customer_verified" for e in reset) is resets
        assert all(e["name"] != "customer_code" for e in reset)
    first_time = Tracker("unit", {}, latest, events[1:], False, None, {}, "action_listen")
    assert acknowledge_correction(CollectingDispatcher(), first_time, {"customer_code": "100003"}) == []
