"""Issue 13: the contact mix is held out (no sentence of it is trained on or in the NLU held-out
set), well formed, large enough, and every outcome it expects is one the assistant can give;
the emergency safety net's words."""

from __future__ import annotations

import pytest
import yaml

from bot.domain import domain_responses
from bot.nlu.emergency import is_emergency
from bot.ops.contact_mix import MIX, Contact, judge, load
from bot.ops.nlu_files import holdout_examples, intent_examples, normalised, training_examples

ISSUE_12_INTENTS = {
    "submit_meter_reading",
    "ask_payment_methods",
    "report_payment",
    "request_direct_debit",
    "request_bill_copy",
    "request_paperless",
    "ask_bill_explanation",
    "file_complaint",
}


def test_the_mix_is_large_and_held_out():
    contacts = load()
    assert len(contacts) >= 300
    seen = [normalised(c.text) for c in contacts]
    assert len(seen) == len(set(seen))
    trained = {normalised(e) for _, e in training_examples()} | {normalised(e) for _, e in holdout_examples()}
    assert not [c.text for c in contacts if normalised(c.text) in trained]


def test_every_expected_answer_exists():
    faq_answers = {name.removeprefix("utter_") for name in domain_responses() if name.startswith("utter_faq/")}
    faq_trained = {intent for intent, _ in intent_examples(sorted((MIX.parent.parent / "data" / "nlu").glob("*.yml")))}
    for contact in load():
        for outcome in contact.outcomes:
            if outcome.startswith("faq/"):
                assert outcome in faq_answers and outcome in faq_trained, contact


def test_judging_by_what_the_server_understood():
    known = {"check_bills"}
    faq = Contact("dove trovo il pod?", "faq/dove_pod", "codici")
    parsed = {
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/dove_pod"}}},
    }
    assert judge(faq, parsed, True, known) == "on_topic"
    assert judge(faq, {"intent": {"name": "check_bills"}}, True, known) == "off_topic"
    assert (
        judge(Contact("x", "check_bills", "bollette"), {"intent": {"name": "check_bills"}}, False, known) == "off_topic"
    )
    assert (
        judge(Contact("x", "file_complaint", "reclamo"), {"intent": {"name": "faq"}}, True, known)
        == "not_yet_available"
    )


def test_an_outcome_the_mix_also_accepts_is_on_topic_and_no_other():
    paid = Contact(
        "ho pagato ieri ma risulta non pagata", "faq/pagamento_registrazione", "pagamenti", ("report_payment",)
    )
    known = {"report_payment", "check_bills"}
    assert judge(paid, {"intent": {"name": "report_payment"}}, True, known) == "on_topic"
    registration = {
        "intent": {"name": "faq"},
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/pagamento_registrazione"}}},
    }
    assert judge(paid, registration, True, known) == "on_topic"
    assert judge(paid, {"intent": {"name": "check_bills"}}, True, known) == "off_topic"


def test_the_mix_file_keeps_a_section_for_issue_12():
    text = MIX.read_text(encoding="utf-8")
    assert "issue 12 (N12)" in text
    assert {c["expect"] for c in yaml.safe_load(text)["contacts"]} & ISSUE_12_INTENTS


@pytest.mark.parametrize(
    "text",
    [
        "sento puzza di gas in cucina",
        "C'È ODORE DI GAS SULLE SCALE",
        "fuga di metano in cantina",
        "il gas perde dal tubo",
        "siamo senza luce da due ore",
        "è andata via la corrente",
        "blackout in zona",
        "black out nel quartiere",
        "manca la corrente in tutta la via",
    ],
)
def test_emergency_wording_is_caught(text):
    assert is_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "quanto costa il gas?",
        "vorrei la bolletta della luce via email",
        "manca la bolletta della luce",
        "bonus gas",
        "perdita di tempo con la bolletta del gas",
        "come si legge il contatore del gas?",
    ],
)
def test_ordinary_questions_are_not_emergencies(text):
    assert not is_emergency(text)
