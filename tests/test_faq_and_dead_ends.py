"""Issue 13 through the real stack on loopback (billing backend, action server, Rasa server), on
the REST channel: information questions answered with the operator's facts, emergencies answered
whatever the conversation is doing, and no dead ends in identification."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select

from actions.faq import operator_facts
from bot.domain import domain_responses
from bot.settings import Settings
from bot.support.models import Ticket
from tests.harness.rest import texts
from tests.harness.stack import Stack, running_stack

SETTINGS = Settings(_env_file=None)
CALL_CENTRE = "800 111 222"
AREA = "https://area.example.test/clienti"
EMERGENCY_GAS = SETTINGS.emergency_number_gas


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    extra = {"CALL_CENTRE_NUMBER": CALL_CENTRE, "CUSTOMER_AREA_URL": AREA, "SUPPORT_HOURS": "mon-sun 00:00-23:59"}
    with running_stack(tmp_path_factory.mktemp("stack"), extra) as running:
        yield running


def sender() -> str:
    return f"n13-{uuid.uuid4().hex[:10]}"


def latest_parse(stack: Stack, who: str) -> dict[str, Any]:
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{who}/tracker", params={"token": stack.env["RASA_API_TOKEN"]}, timeout=30
    ).json()
    return tracker["latest_message"]


def assert_emergency(replies: list[dict[str, Any]]) -> None:
    answer = texts(replies)
    assert EMERGENCY_GAS in answer and "24 ore su 24" in answer, answer


# ------------------------------------------------------------------------------------------ FAQ
def test_every_faq_answer_names_only_the_operator_facts_action_faq_passes():
    facts = set(operator_facts())
    for name, variations in domain_responses().items():
        if name.startswith("utter_faq/"):
            for variation in variations:
                assert set(re.findall(r"{(\w+)}", variation["text"])) <= facts, name


def test_an_information_question_gets_its_answer_with_the_configured_facts(stack):
    replies = stack.say(sender(), "come si fa una voltura?")
    answer = texts(replies)
    assert "voltura" in answer.lower() and CALL_CENTRE in answer and AREA in answer
    assert "{" not in answer  # every variable filled
    assert any(b["payload"] == "/request_human" for r in replies for b in r.get("buttons", []))


def test_where_the_codes_are_printed(stack):
    answer = texts(stack.say(sender(), "dove trovo il codice PDR del gas?"))
    assert "14 cifre" in answer


def test_an_information_question_mid_form_is_answered_and_the_form_resumes(stack):
    who = sender()
    stack.say(who, "quali bollette devo pagare?")
    replies = stack.say(who, "scusi, ogni quanto arriva la bolletta?")
    answer = texts(replies)
    assert "20 giorni" in answer and "codice cliente" in answer  # the answer, then the question again


def test_out_of_scope_lists_what_the_assistant_does_without_contradicting_itself(stack):
    answer = texts(stack.say(sender(), "chi ha vinto il campionato di calcio?"))
    assert "mi occupo delle forniture" not in answer
    assert "bollette" in answer and "volture" in answer and "operatore" in answer


# ----------------------------------------------------------------------------------- emergencies
def test_gas_smell_in_the_middle_of_the_identity_form(stack):
    who = sender()
    stack.say(who, "vorrei pagare a rate")
    replies = stack.say(who, "aspetti, sento puzza di gas in cucina")
    assert_emergency(replies)
    assert "finestre" in texts(replies)  # the gas safety advice


def test_power_cut_at_a_confirmation(stack):
    who = sender()
    replies = stack.conversation(who, "vorrei pagare a rate", "100001", "RSSMRA80A01H501U", "2")
    assert "Confermo?" in texts(replies[-1])
    assert_emergency(stack.say(who, "è andata via la corrente in tutta la casa"))


def test_emergency_after_a_fallback(stack):
    who = sender()
    stack.say(who, "blu giraffa trentasette")
    assert_emergency(stack.say(who, "c'è odore di gas per le scale"))


def test_emergency_while_waiting_for_a_person_is_answered_and_flagged(stack):
    who = sender()
    queued = texts(stack.say(who, "voglio parlare con un operatore"))
    assert "coda" in queued or "operatore" in queued
    assert_emergency(stack.say(who, "c'è una fuga di gas in cantina"))
    engine = create_engine(f"sqlite:///{stack.tmp / 'support.db'}")
    with engine.connect() as connection:
        ticket = connection.execute(select(Ticket).where(Ticket.conversation_id == who)).one()
    assert ticket.reason == "emergency" and ticket.summary["emergency"] is True
    # still the agent's: an ordinary message gets no bot answer while paused
    assert stack.say(who, "quando arriva l'operatore?") == []


# ---------------------------------------------------------------------------------- dead ends
def test_no_customer_code_at_hand_identifies_with_pod_in_three_turns(stack):
    who = sender()
    stack.say(who, "quali bollette devo pagare?")
    switch = texts(stack.say(who, "non ho il codice cliente sotto mano"))
    assert "prima pagina" in switch and "POD" in switch
    asks_cf = texts(stack.say(who, "IT001E12345678"))
    assert "codice fiscale" in asks_cf
    verified = texts(stack.say(who, "RSSMRA80A01H501U"))
    assert "ho verificato la Sua identità" in verified


def test_a_pod_given_for_the_customer_code_is_used(stack):
    who = sender()
    stack.say(who, "quali bollette devo pagare?")
    answer = texts(stack.say(who, "il pod è IT001E12345678"))
    assert "codice di fornitura" in answer and "codice fiscale" in answer


def test_two_unproductive_answers_get_a_way_out_not_the_question_again(stack):
    who = sender()
    stack.say(who, "quali bollette devo pagare?")
    first = texts(stack.say(who, "boh aspetti che cerco"))
    assert "6 cifre" in first
    second = stack.say(who, "ehm, un attimo")
    answer = texts(second)
    assert "operatore" in answer and "POD" in answer and "Mi scrive il codice cliente" not in answer
    payloads = {b["payload"] for r in second for b in r.get("buttons", [])}
    assert {"/identify_by_supply", "/request_human", "/deny"} <= payloads


def test_a_typed_button_title_works_like_the_button(stack):
    who = sender()
    stack.say(who, "quali bollette devo pagare?")
    stack.say(who, "boh aspetti che cerco")
    stack.say(who, "ehm, un attimo")
    answer = texts(stack.say(who, "usare pod o pdr"))  # the button's title, typed
    parsed = latest_parse(stack, who)
    assert parsed["text"] == "usare pod o pdr" and parsed["intent"]["name"] == "identify_by_supply"
    assert parsed["intent"]["confidence"] == 1.0  # the payload's meaning, not a guess
    assert "POD" in answer
