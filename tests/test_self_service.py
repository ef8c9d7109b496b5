"""Issue 12's flows as whole conversations on the REST channel, against the real stack on
loopback (billing backend seeded for 2026-11-26, action server, Rasa server): the first
answer engages with the request, the effect in the backend happens exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select

from bot.billing.models import Complaint, MeterReading
from tests.harness.stack import Stack, running_stack


def text(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def sender() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def count(stack: Stack, model: type, *where) -> int:
    url = stack.backend.env["BILLING_DATABASE_URL"]
    with create_engine(url, future=True).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def test_laura_gives_a_gas_reading_once(stack: Stack) -> None:
    who = sender()
    replies = stack.conversation(who, "vorrei comunicare l'autolettura del gas", "100002", "BNCLRA85M41D612D")
    assert "codice cliente" in text(replies[0])
    assert "lettura del contatore gas" in text(replies[-1]) and "8.350 m³" in text(replies[-1])
    lower = stack.say(who, "8000")
    assert "più bassa" in text(lower)
    done = stack.say(who, "8.420")
    assert "ho registrato la lettura" in text(done) and "70 m³" in text(done)
    stack.say(who, "8.420")  # sent again
    assert count(stack, MeterReading, MeterReading.source == "customer") == 1


def test_mario_hears_what_is_registered_and_hands_over_his_claim(stack: Stack) -> None:
    who = sender()
    replies = stack.conversation(who, "ho già pagato ma mi è arrivato un sollecito", "100001", "RSSMRA80A01H501U")
    answer = text(replies[-1])
    assert "pagata" in answer and "addebito diretto" in answer  # the registered payments
    assert "bonifico arriva in circa 3 giorni" in answer and "codice avviso" in answer
    handed = stack.say(who, "ho pagato il 20 novembre con bonifico")
    assert "20 novembre 2026 con bonifico" in text(handed) and "operatore" in text(handed)


def test_payment_methods_need_no_identification(stack: Stack) -> None:
    answer = text(stack.say(sender(), "in che modi posso pagare la bolletta?"))
    assert "pagoPA" in answer and "Bollettino postale" in answer and "codice cliente" not in answer


def test_giuseppe_files_one_complaint_with_a_protocol(stack: Stack) -> None:
    who = sender()
    stack.conversation(who, "voglio fare un reclamo", "100003", "VRDGPP70C15G702S")
    stack.say(who, '/inform{"complaint_category": "letture"}')
    summary = stack.say(who, "Le ultime tre bollette del gas hanno letture stimate molto più alte del reale.")
    assert "Confermo?" in text(summary)
    done = text(stack.say(who, "sì"))
    assert "protocollo R2026-" in done and "30 giorni" in done and "26 dicembre 2026" in done
    stack.say(who, "sì")  # the confirmation sent again
    assert count(stack, Complaint, Complaint.customer_code == "100003") == 1
