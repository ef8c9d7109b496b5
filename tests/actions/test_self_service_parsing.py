"""What the self-service actions read in the customer's words (issue 12): meter registers,
a payment's date and method, a complaint's category; and the masking of IBAN and e-mail."""

from __future__ import annotations

from datetime import date

import pytest

from actions.complaints import category_in
from actions.payments import payment_date_in, payment_method_in
from actions.readings import parse_registers
from bot.masking import mask_text

THREE = ["F1", "F2", "F3"]


@pytest.mark.parametrize(
    "text, names, expected",
    [
        ("12345", ["total"], {"total": 12345}),
        ("la lettura è 12.345 m3", ["total"], {"total": 12345}),
        ("1234,56", ["total"], {"total": 1234}),
        ("F1 4500, F2 3400, F3 5200", THREE, {"F1": 4500, "F2": 3400, "F3": 5200}),
        ("f3: 5200 f1: 4.500 f2 = 3400", THREE, {"F1": 4500, "F2": 3400, "F3": 5200}),
        ("4500 3400 5200", THREE, {"F1": 4500, "F2": 3400, "F3": 5200}),
        ("4500 3400", THREE, None),
        ("non lo so", ["total"], None),
        ("12 e 13", ["total"], None),
    ],
)
def test_meter_registers_from_the_customers_words(text: str, names: list[str], expected: dict | None) -> None:
    assert parse_registers(text, names) == expected


def test_a_long_message_is_cut_before_parsing() -> None:
    assert parse_registers("1" * 10 + " " + "x " * 100_000, ["total"]) is not None


@pytest.mark.parametrize(
    "text, method",
    [
        ("il 20 novembre con bonifico", "bonifico"),
        ("ho pagato alla posta", "bollettino"),
        ("in tabaccheria", "pagopa"),
        ("con la carta nell'app", "carta"),
        ("boh", None),
    ],
)
def test_payment_method(text: str, method: str | None) -> None:
    assert payment_method_in(text) == method


def test_a_payment_date_is_in_the_past() -> None:
    today = date(2026, 11, 26)
    assert payment_date_in("il 20 novembre", today) == date(2026, 11, 20)
    assert payment_date_in("il 3 dicembre", today) == date(2025, 12, 3)
    assert payment_date_in("non ricordo", today) is None


@pytest.mark.parametrize(
    "text, category",
    [
        ("fatturazione", "fatturazione"),
        ("le letture sono sbagliate", "letture"),
        ("2", "letture"),
        ("il vostro operatore è stato maleducato", "servizio"),
        ("boh", None),
    ],
)
def test_complaint_category(text: str, category: str | None) -> None:
    assert category_in(text) == category


def test_iban_and_email_are_masked_in_what_is_logged_and_shown_to_agents() -> None:
    masked = mask_text("IBAN IT60 X054 2811 1010 0000 0123 456, mail mario.rossi@example.it")
    assert "IT60X0542811101000000123456" not in masked.replace(" ", "")
    assert "0123 456" not in masked and "mario.rossi@example.it" not in masked
