"""Issue 12, items 3 and 5, as whole conversations on the REST channel against the real stack on
loopback (billing backend seeded for 2026-11-26, action server, Rasa server): direct debit
activated and revoked, paperless billing set, each exactly once although the customer confirms
twice; the IBAN never in clear in the services' logs nor in what the console shows and exports."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select

from bot.billing.models import Customer, DirectDebitMandate
from bot.console.turns import transcript
from bot.support.handoff import conversation_summary
from tests.harness.stack import Stack, running_stack
from tests.test_self_service import sender, text

LAURA_IBAN = "IT22K2601815908301661318609"  # valid, not the seed's
LAURA_IBAN_SPACED = "IT22 K260 1815 9083 0166 1318 609"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def mandates(stack: Stack, customer_code: str) -> list:
    url = stack.backend.env["BILLING_DATABASE_URL"]
    with create_engine(url, future=True).connect() as connection:
        query = select(DirectDebitMandate).where(DirectDebitMandate.customer_code == customer_code)
        return list(connection.execute(query.order_by(DirectDebitMandate.id)).all())


def stored_events(stack: Stack, who: str) -> list[dict]:
    """The conversation as the tracker store keeps it (what the console reads)."""
    with create_engine(stack.env["TRACKER_STORE_URL"], future=True).connect() as connection:
        rows = connection.exec_driver_sql("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (who,)).scalars()
        return [json.loads(row) for row in rows]


def test_laura_activates_direct_debit_once_and_the_iban_stays_masked(stack: Stack) -> None:
    who = sender()
    replies = stack.conversation(who, "vorrei attivare la domiciliazione bancaria", "100002", "BNCLRA85M41D612D")
    assert "codice cliente" in text(replies[0])
    assert "intestatario" in text(replies[-1])  # who holds the account: the mandate is theirs to sign
    other = text(stack.say(who, "Paolo Bianchi"))
    assert "Paolo Bianchi" in other and "dalla propria banca" in other
    assert "IBAN" in text(stack.say(who, "/affirm"))  # "Sono io"
    wrong = text(stack.say(who, "IT22 K260 1815 9083 0166 1318 608"))
    assert "non è valido" in wrong and "ricontrolli" in wrong
    summary = text(stack.say(who, f"eccolo {LAURA_IBAN_SPACED}"))
    assert "IT** **** … 8609" in summary and "Laura Bianchi" in summary and "Confermo?" in summary
    assert "K260" not in summary
    done = text(stack.say(who, "sì"))
    assert "ho attivato la domiciliazione" in done and "IT** **** … 8609" in done
    assert "dal 16 dicembre 2026" in done and "intorno al 24 dicembre 2026" in done and "F100002-01" in done
    stack.say(who, "sì")  # the confirmation sent again
    active = [m for m in mandates(stack, "100002") if m.status == "active"]
    assert len(active) == 1 and active[0].iban == LAURA_IBAN and len(mandates(stack, "100002")) == 1

    # never in clear outside the backend's database
    logs = "".join(
        (stack.tmp / name).read_text(errors="replace") for name in ("billing.log", "actions.log", "rasa.log")
    )
    for shape in (LAURA_IBAN, LAURA_IBAN_SPACED, "K260"):
        assert shape not in logs
    events = stored_events(stack, who)
    assert any(LAURA_IBAN_SPACED in (e.get("text") or "") for e in events)  # the tracker keeps the message
    shown = json.dumps(transcript(events), ensure_ascii=False)  # the console's view and its exports
    summary_for_agent = json.dumps(conversation_summary(events, {}, "rest", "request_human"), ensure_ascii=False)
    for view in (shown, summary_for_agent):
        assert "IT22" not in view and "K260" not in view and "8609" not in view.replace("… 8609", "")


def test_mario_revokes_his_direct_debit_once(stack: Stack) -> None:
    who = sender()
    replies = stack.conversation(who, "x favore togliete la domiciliazione dal mio conto", "100001", "RSSMRA80A01H501U")
    summary = text(replies[-1])
    assert "revoco la domiciliazione" in summary and "IT** **** … 3456" in summary and "Confermo?" in summary
    done = text(stack.say(who, "sì"))
    assert (
        "ho revocato la domiciliazione" in done
        and "dal 1º dicembre 2026" in done
        and "intorno al 10 gennaio 2027" in done
    )
    stack.say(who, "sì")
    assert [m.status for m in mandates(stack, "100001")] == ["revoked"]
    # asked again: nothing to revoke, and how to activate it
    again = stack.conversation(sender(), "voglio revocare l'addebito diretto", "100001", "RSSMRA80A01H501U")
    assert "Non risulta una domiciliazione bancaria attiva" in text(again[-1])


def test_mario_gets_his_bills_by_e_mail_once(stack: Stack) -> None:
    who = sender()
    replies = stack.conversation(who, "vorrei ricevere la bolletta via email", "100001", "RSSMRA80A01H501U")
    assert "indirizzo e-mail" in text(replies[-1])
    assert "Me lo riscrive" in text(stack.say(who, "mario.rossi chiocciola gmail"))
    summary = text(stack.say(who, "mario.rossi@gmail.com"))
    assert "mario.rossi@gmail.com" in summary and "Confermo?" in summary  # in full once, to spot a typo
    done = text(stack.say(who, "sì"))
    assert "m***@gmail.com" in done and "mario.rossi@gmail.com" not in done
    stack.say(who, "sì")
    url = stack.backend.env["BILLING_DATABASE_URL"]
    with create_engine(url, future=True).connect() as connection:
        row = connection.execute(select(Customer.email, Customer.paperless).where(Customer.code == "100001")).one()
    assert tuple(row) == ("mario.rossi@gmail.com", True)
    shown = json.dumps(transcript(stored_events(stack, who)), ensure_ascii=False)
    assert "mario.rossi@gmail.com" not in shown


def test_giuseppe_is_told_his_current_address_masked(stack: Stack) -> None:
    replies = stack.conversation(
        sender(), "ho cambiato mail, aggiornate l'indirizzo per le bollette", "100003", "VRDGPP70C15G702S"
    )
    answer = text(replies[-1])
    assert "g***@example.it" in answer and "giuseppe.verdi@example.it" not in answer
