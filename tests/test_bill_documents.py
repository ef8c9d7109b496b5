"""Issue 12 items 4 and 6 as whole conversations on the REST channel, against the real stack on
loopback (billing backend seeded for 2026-11-26, action server, Rasa server): a copy of a bill
reaches only a verified customer, as a short-lived link that serves the PDF; "why is this bill
so high?" is answered with the figures and what helps."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from tests.billing.test_bill_documents_api import pdf_text
from tests.harness.stack import Stack, running_stack
from tests.test_self_service import sender, text

LINK = re.compile(r"https?://\S+/bolletta/([A-Za-z0-9_.-]+)")


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons") or []]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("bill_documents")) as running:
        yield running


def download(stack: Stack, answer: str) -> requests.Response:
    """The PDF the link stands for, as the web service fetches it (the stack runs no web service)."""
    found = LINK.search(answer)
    assert found, answer
    return requests.get(
        f"{stack.backend.url}/v1/bill-downloads/{found.group(1)}", headers=stack.backend.headers(), timeout=10
    )


def test_a_copy_of_the_latest_bill_only_after_verification(stack: Stack) -> None:
    who = sender()
    first = text(stack.say(who, "mi serve una copia della bolletta"))
    assert "copia della bolletta" in first and "codice cliente" in first and "/bolletta/" not in first
    stack.say(who, "100001")
    wrong = text(stack.say(who, "RSSMRA80A01H501X"))  # mistyped: not verified, nothing sent
    assert "/bolletta/" not in wrong and "codice fiscale" in wrong
    replies = stack.say(who, "RSSMRA80A01H501U")
    answer = text(replies)
    assert "copia della bolletta luce di 182,40" in answer and "valido 10 minuti" in answer, answer
    pdf = download(stack, answer)
    assert pdf.status_code == 200 and "F100001-01" in pdf_text(pdf.content)
    # the token is neither the customer token nor names the customer
    assert "100001" not in LINK.search(answer).group(1)  # type: ignore[union-attr]
    # the other bills are offered, each as a request for its copy
    offered = buttons(replies)
    assert [b["payload"] for b in offered] == [
        '/request_bill_copy{"history_bill": "F100001-02"}',
        '/request_bill_copy{"history_bill": "F100001-03"}',
    ]
    again = text(stack.say(who, offered[0]["payload"]))  # still verified: straight to the copy
    assert "156,10" in again and "codice cliente" not in again
    assert "F100001-02" in pdf_text(download(stack, again).content)


def test_the_bill_named_by_its_month_is_the_one_sent(stack: Stack) -> None:
    who = sender()
    stack.say(who, "mi mandate la bolletta di settembre in pdf?")
    stack.say(who, "100004")
    answer = text(stack.say(who, "FRRNNA75D45G999S"))
    # Anna Ferrari's bill whose period ended in September (issued then too): 58,40 €
    assert "58,40" in answer, answer
    assert "F100004-02" in pdf_text(download(stack, answer).content)


def test_a_conguaglio_is_explained_with_figures_and_what_helps(stack: Stack) -> None:
    who = sender()
    first = text(stack.say(who, "perché la bolletta è così alta?"))
    assert "confrontiamo con le precedenti" in first and "codice cliente" in first
    stack.say(who, "100004")
    replies = stack.say(who, "FRRNNA75D45G999S")
    answer = text(replies)
    for figure in ("123,00", "61,10", "410 kWh", "195 kWh", "conguaglio", "65,50", "3 bollette precedenti"):
        assert figure in answer, (figure, answer)
    assert "un Suo diritto (ARERA)" in answer and "autolettura" in answer
    assert [b["payload"] for b in buttons(replies)] == [
        "/submit_meter_reading",
        "/request_installments",
        "/request_human",
    ]


def test_an_estimated_bill_suggests_a_self_reading_and_an_ordinary_one_is_in_line(stack: Stack) -> None:
    laura = sender()
    stack.conversation(laura, "bolletta del gas altissima, come mai?", "100002")
    answer = text(stack.say(laura, "BNCLRA85M41D612D"))
    assert "820,00" in answer and "lettura stimata" in answer and "610 m³" in answer, answer
    mario = sender()
    stack.conversation(mario, "come mai l'ultima bolletta è così cara?", "100001")
    answer = text(stack.say(mario, "RSSMRA80A01H501U"))
    assert "182,40" in answer and "in linea" in answer and "conguaglio" not in answer, answer
