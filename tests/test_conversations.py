"""Whole conversations on the REST channel against the real stack on loopback: the billing
backend (seeded, business day fixed), the action server and the Rasa server."""

from __future__ import annotations

import uuid
from typing import List

import pytest

from tests.harness.stack import Stack, running_stack


def text(replies: List[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def sender() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def test_mario_creates_one_installment_plan_even_if_he_confirms_twice(stack):
    who = sender()
    replies = stack.conversation(who, "vorrei pagare a rate", "100001", "RSSMRA80A01H501U", "2")
    assert "codice cliente" in text(replies[0])
    assert "verificato" in text(replies[2]) and "182,40\u00a0€" in text(replies[2])
    assert "Confermo?" in text(replies[3]) and "91,20\u00a0€" in text(replies[3])
    done = stack.say(who, "sì")
    assert "piano di rateizzazione è attivo" in text(done)
    stack.say(who, "sì")  # the confirmation sent again
    token = stack.backend.verify()
    plans = stack.backend.get("/v1/customers/100001/installment-plans", token).json()["plans"]
    assert len(plans) == 1 and [i["amount_cents"] for i in plans[0]["installments"]] == [9_120, 9_120]


def test_codice_fiscale_is_never_repeated_in_clear(stack):
    who = sender()
    replies = stack.conversation(who, "quali bollette devo pagare?", "100003", "VRDGPP70C15G702S")
    assert "non risultano bollette da pagare" in text(replies[-1])
    assert all("VRDGPP70C15G702S" not in text(r) for r in replies)


def test_laura_is_told_why_and_offered_a_human(stack):
    who = sender()
    replies = stack.conversation(who, "posso rateizzare la bolletta del gas?", "100002", "BNCLRA85M41D612D")
    answer = text(replies[-1])
    assert "scaduta da 12 giorni" in answer and "operatore" in answer
    accepted = stack.say(who, "sì")
    assert "numero verde" in text(accepted)


def test_a_mistyped_codice_fiscale_gets_a_specific_hint(stack):
    who = sender()
    replies = stack.conversation(who, "devo spostare una scadenza", "100001", "RSSMRA80A01H501X")
    assert "lettera" in text(replies[-1]) and "controllo" in text(replies[-1])


def test_three_wrong_pairs_hand_over_to_a_person(stack):
    who = sender()
    stack.say(who, "vorrei vedere le mie bollette")
    for _ in range(2):
        stack.say(who, "100001")
        retry = stack.say(who, "BNCLRA85M41D612D")  # valid, but someone else's
        assert "non corrispondono" in text(retry)
    stack.say(who, "100001")
    final = stack.say(who, "BNCLRA85M41D612D")
    assert "non sono riuscito a verificare" in text(final).lower() and "numero verde" in text(final)


def test_deferral_with_a_date_in_words(stack):
    who = sender()
    replies = stack.conversation(who, "posso spostare la scadenza della bolletta?", "100006", "RMNFNC90T52A390Z")
    assert "fino al" in text(replies[-1])
    confirm = stack.say(who, "il 20 dicembre")
    assert "20 dicembre 2026" in text(confirm) and "Confermo?" in text(confirm)
    done = stack.say(who, "sì confermo")
    assert "nuova scadenza" in text(done) and "20 dicembre 2026" in text(done)


def test_changing_ones_mind_and_asking_something_else_mid_form(stack):
    who = sender()
    stack.say(who, "vorrei pagare a rate")
    aside = stack.say(who, "a proposito, dov'è lo sportello di Arezzo?")
    assert "Arezzo" in text(aside) and "codice cliente" in text(aside)  # answered, then back to the form
    switched = stack.say(who, "preferisco sapere quali bollette ho ancora da pagare")
    assert "bollette" in text(switched) or "codice cliente" in text(switched)
    stopped = stack.say(who, "no lascia perdere")
    assert "senza modificare nulla" in text(stopped)


def test_bonus_sociale_is_answered_from_todays_rules(stack):
    answer = text(stack.say(sender(), "il bonus sociale come funziona? abbiamo un isee di 9.000 euro"))
    assert "9.796" in answer and "rientra" in answer


def test_backend_down_mid_conversation_gets_an_apology(stack):
    who = sender()
    stack.conversation(who, "quanto devo pagare di bollette?", "100001")
    stack.backend.stop()  # the last test of the module: the backend stays down
    down = stack.say(who, "RSSMRA80A01H501U")
    assert "problema tecnico" in text(down)
    assert "operatore" in text(down) and "numero verde" in text(down)  # handed to a person
    assert stack.say(who, "buongiorno") == []  # the bot waits for the agent, it does not guess
