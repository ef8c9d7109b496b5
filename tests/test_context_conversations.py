"""Issue 16, whole conversations on REST against the real stack (billing backend, action
server, Rasa on loopback): two requests in one message, follow-ups in their topic, corrections,
and never the same question three times in a row."""

from __future__ import annotations

import uuid

import pytest

from bot.folding import fold
from tests.harness.rest import texts as text
from tests.harness.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("context")) as running:
        yield running


def sender() -> str:
    return f"ctx-{uuid.uuid4().hex[:10]}"  # a new conversation


def no_question_three_times(replies: list[list[dict]]) -> None:
    last = [fold(r[-1].get("text", "")) for r in replies if r]
    assert not [a for a, b, c in zip(last, last[1:], last[2:], strict=False) if a == b == c], last


def test_the_issue_transcript_bills_and_siena_then_a_corrected_code(stack):
    who = sender()
    first = text(stack.say(who, "Vorrei sapere quanto devo pagare e dove si trova lo sportello di Siena"))
    # both requests: said so, the store first (no identification needed), then the codice cliente
    assert "entrambe le cose: prima lo sportello, poi le Sue bollette" in first
    assert "Siena" in first and first.index("Siena") < first.index("codice cliente")
    code = text(stack.say(who, "100001"))
    assert "codice fiscale" in code and "comune" not in code  # the code answers the form's question
    corrected = text(stack.say(who, "scusi ho sbagliato, il codice è 100003"))
    assert "ho corretto il codice cliente: 100003" in corrected and "codice fiscale" in corrected
    assert "comune" not in corrected
    done = text(stack.say(who, "VRDGPP70C15G702S"))
    assert "Giuseppe" in done and "non risultano bollette da pagare" in done
    assert "VRDGPP70C15G702S" not in done


def test_a_code_with_no_question_after_a_store_answer_is_not_taken_for_a_town(stack):
    who = sender()
    replies = stack.conversation(who, "dov'è lo sportello di Arezzo?", "100001", "100001", "100001")
    assert all("In quale comune" not in text(r) for r in replies[1:])
    no_question_three_times(replies)


def test_store_follow_ups_keep_the_topic(stack):
    who = sender()
    stack.say(who, "dove si trova lo sportello di Arezzo?")
    siena = text(stack.say(who, "e a Siena?"))
    assert "Siena" in siena and "ho preso nota" not in siena
    meant = text(stack.say(who, "no, intendevo Grosseto"))
    assert "Grosseto" in meant


def test_bonus_follow_ups_keep_the_isee_and_answer_when_to_apply(stack):
    who = sender()
    first = text(stack.say(who, "ho un isee di 18000 euro, mi spetta il bonus sociale?"))
    assert "non rientra" in first
    children = text(stack.say(who, "e se ho 4 figli?"))
    assert "Con un ISEE di 18.000,00\u00a0€ rientra nella soglia di 20.000,00\u00a0€" in children
    when = text(stack.say(who, "entro quando devo presentare la domanda?"))
    assert "Non c'è una domanda con una scadenza" in when


def test_a_follow_up_without_a_topic_gets_a_question_back(stack):
    answer = text(stack.say(sender(), "e con 4 figli?"))
    assert "a che cosa si riferisce" in answer


def test_two_account_requests_are_served_one_after_the_other(stack):
    who = sender()
    first = text(stack.say(who, "mi dite le bollette aperte e se posso rinviare la scadenza di una?"))
    assert "entrambe le cose: prima le Sue bollette, poi lo spostamento della scadenza" in first
    stack.say(who, "100001")
    after = text(stack.say(who, "RSSMRA80A01H501U"))
    assert "182,40" in after  # the bills
    assert "seconda richiesta: lo spostamento della scadenza" in after


def test_late_interest_follow_up_on_the_same_bill(stack):
    who = sender()
    stack.conversation(who, "quanto pago di interessi se pago in ritardo?", "100001", "RSSMRA80A01H501U")
    quote = text(stack.say(who, "il 15 dicembre"))
    assert "15 dicembre" in quote
    again = text(stack.say(who, "e se pago il 20 dicembre?"))
    assert "20 dicembre" in again and "codice cliente" not in again
