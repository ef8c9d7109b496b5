"""Direct debit and paperless billing (issue 12) in-process: what the actions read in the
customer's words (bot/customer_data.py), what they answer when it is not usable, the IBAN shown
only masked, and an answer in words that sound like the request kept as the answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import self_service
from actions.direct_debit import check_holder, check_iban, is_self
from actions.paperless import check_email
from bot import formatters
from bot.customer_data import MAX_TEXT, email_in, holder_name, iban_check, iban_of, same_person
from bot.masking import mask_iban, mask_text
from bot.support.handoff import REASONS, conversation_summary

IBAN = "IT60X0542811101000000123456"


def tracker(slots: dict[str, Any], text: str = "", intent: str = "inform") -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker("a1-test", slots, message, [], False, None, {"name": "customer_form"}, "action_listen")


def run(check: Any, value: str, slots: dict[str, Any], intent: str = "inform") -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    result = asyncio.run(check(value, dispatcher, tracker(slots, value, intent)))
    return result, [m.get("response") for m in dispatcher.messages]


# --------------------------------------------------------------------------- bot/customer_data.py
@pytest.mark.parametrize(
    "text, expected",
    [
        ("IT60 X054 2811 1010 0000 0123 456", IBAN),
        ("il mio iban è it60x0542811101000000123456 grazie", IBAN),
        ("IBAN: IT60 X054 2811 1010 0000 0123 456 grazie mille", IBAN),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_an_iban_is_read_out_of_a_message(text: str, expected: str) -> None:
    assert iban_check(text).iban == expected


@pytest.mark.parametrize(
    "text, problem, length",
    [
        ("IT60 X054 2811 1010 0000 0123 457", "invalid", 27),  # one digit wrong
        ("IT60X054281110100000012345", "invalid", 26),  # one digit missing
        ("BR1800360305000010009795493C1", "not_sepa", 29),
        ("non lo trovo", "not_found", 0),
        ("le 20 bollette", "not_found", 0),
    ],
)
def test_an_unusable_iban_says_why(text: str, problem: str, length: int) -> None:
    check = iban_check(text)
    assert check.iban is None and check.problem == problem and check.length == length


def test_the_backend_check_takes_nothing_but_the_iban() -> None:
    assert iban_of("it60 x054 2811 1010 0000 0123 456").iban == IBAN
    assert iban_of(IBAN + "XY").problem == "invalid"  # the lenient reading is the chat's only


def test_a_long_message_is_cut_before_reading() -> None:
    assert iban_check("x " * 100_000 + IBAN).problem == "not_found"  # beyond MAX_TEXT
    assert iban_check("x" * (MAX_TEXT - 40) + " " + IBAN).iban == IBAN


def test_names_and_e_mail_addresses() -> None:
    assert holder_name("  rossi   mario ") == "rossi mario" and holder_name("Mario") is None
    assert holder_name("D'Angelo Maria-Luisa") and holder_name("Mario R0ssi") is None
    assert same_person("ROSSI Mario", "Mario Rossi") and not same_person("Maria Rossi", "Mario Rossi")
    assert email_in("la mia mail è Mario.Rossi@GMAIL.com, grazie") == "Mario.Rossi@gmail.com"
    assert email_in("mario.rossi@gmail") is None and email_in("nessuna mail") is None


# --------------------------------------------------------------------------- masking
def test_the_iban_is_shown_masked_and_the_masker_leaves_the_masked_form_alone() -> None:
    shown = mask_iban("IT60 X054 2811 1010 0000 0123 456")
    assert shown == "IT** **** … 3456" and mask_text(shown) == shown
    assert IBAN not in mask_text(f"il mio iban è {IBAN}") and "0123" not in mask_text(f"iban {IBAN}")
    summary = formatters.direct_debit_summary(shown, "Mario Rossi", "IT** **** … 9012")
    assert "IT** **** … 3456" in summary and "X054" not in summary and "al posto del conto" in summary


# --------------------------------------------------------------------------- the actions' checks
@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("sono io", "inform", True),
        ("sì, è mio", "affirm", True),
        ("/affirm", "affirm", True),
        ("cointestato con mia moglie", "inform", True),
        ("io", "inform", True),
        ("Paolo Bianchi", "inform", False),
        ("mia moglie Anna Verdi", "inform", False),
    ],
)
def test_the_customer_says_the_account_is_theirs(text: str, intent: str, expected: bool) -> None:
    assert is_self(text, intent) is expected


def test_the_holder_is_the_customer_or_gets_told_who_must_sign() -> None:
    customer = {"customer_name": "Mario Rossi"}
    assert run(check_holder, "sono io", customer)[0] == {"debit_holder": "Mario Rossi"}
    assert run(check_holder, "rossi mario", customer)[0] == {"debit_holder": "Mario Rossi"}
    other, responses = run(check_holder, "Anna Verdi", customer)
    assert other == {"debit_holder": None} and responses == ["utter_debit_holder_not_customer"]
    unclear, responses = run(check_holder, "boh", customer)
    assert unclear == {"debit_holder": None} and responses == ["utter_debit_holder_not_understood"]


@pytest.mark.parametrize(
    "text, response",
    [
        ("IT60 X054 2811 1010 0000 0123 457", "utter_iban_invalid"),
        ("IT60X054281110100000012345", "utter_iban_wrong_length"),
        ("BR1800360305000010009795493C1", "utter_iban_not_sepa"),
        ("ora non ce l'ho", "utter_iban_not_found"),
    ],
)
def test_an_unusable_iban_gets_a_helpful_question(text: str, response: str) -> None:
    result, responses = run(check_iban, text, {})
    assert result == {"iban": None} and responses == [response]


def test_a_valid_iban_and_e_mail_are_taken_silently() -> None:
    assert run(check_iban, f"ecco: {IBAN}", {}) == ({"iban": IBAN}, [])
    assert run(check_email, "mario.rossi@example.it", {}) == ({"paperless_email": "mario.rossi@example.it"}, [])
    assert run(check_email, "mario.rossi(at)example.it", {}) == (
        {"paperless_email": None},
        ["utter_email_invalid"],
    )


def test_an_answer_that_sounds_like_the_request_is_kept_as_the_answer() -> None:
    asked = {"requested_slot": "iban", "service": "direct_debit", "customer_name": "Mario Rossi"}
    text = f"il nuovo iban per la domiciliazione è {IBAN}"
    dispatcher = CollectingDispatcher()
    kept = asyncio.run(self_service.keep_answer(dispatcher, tracker(asked, text, "request_direct_debit")))
    assert kept is not None and [(e["name"], e["value"]) for e in kept] == [("iban", IBAN)]
    # another request while the IBAN is asked is a switch, not an answer
    switched = {**asked, "service": "paperless"}
    assert asyncio.run(self_service.keep_answer(dispatcher, tracker(switched, "bolletta via mail"))) is None
    email = {"requested_slot": "paperless_email", "service": "paperless"}
    kept = asyncio.run(self_service.keep_answer(dispatcher, tracker(email, "bolletta via mail a m.r@example.it")))
    assert kept is not None and kept[0]["value"] == "m.r@example.it"


def test_the_self_service_tickets_have_italian_reasons() -> None:
    for reason in ("complaint", "payment_not_registered"):
        summary = conversation_summary([], {}, "rest", reason)
        assert summary["reason"] == REASONS[reason] and summary["reason"] != reason
