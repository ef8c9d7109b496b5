"""Issue 12 without services: which bill the customer's words point at (actions/bills.py), and
the explanation of a bill built from the backend's comparison (bot/formatters.py)."""

from __future__ import annotations

import pytest

from actions.bills import bills_named, month_in
from bot import formatters

BILLS = [  # newest first, as actions.bills.all_bills returns them
    {"id": "F100007-02", "supply": "gas", "issue_date": "2026-11-14", "period_end": "2026-11-03"},
    {"id": "F100007-01", "supply": "luce", "issue_date": "2026-11-06", "period_end": "2026-10-27"},
    {"id": "F100007-03", "supply": "luce", "issue_date": "2026-09-15", "period_end": "2026-09-04"},
]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("mi serve una copia della bolletta", None),  # nothing named: the caller takes the latest
        ("la bolletta di settembre", ["F100007-03"]),
        ("quella di sett. 2026 per favore", ["F100007-03"]),
        ("l'ultima bolletta della luce", ["F100007-01"]),
        ("la bolletta del metano", ["F100007-02"]),
        ("la precedente", ["F100007-01"]),
        ("la bolletta f100007-03", ["F100007-03"]),
        ("novembre", ["F100007-02", "F100007-01"]),  # two bills issued in November: the customer picks
        ("la bolletta di marzo", []),
        ("gentile servizio clienti, mi dice la bolletta?", None),  # "gentile", "dice": no month
    ],
)
def test_the_bill_the_words_point_at(words: str, expected: list[str] | None) -> None:
    found = bills_named(words, BILLS)
    assert (None if found is None else [b["id"] for b in found]) == expected


def test_months_are_read_whole_or_abbreviated_never_inside_other_words() -> None:
    assert [month_in(w) for w in ("gennaio", "genn", "feb", "giug", "dic.")] == [1, 1, 2, 6, 12]
    words = ("gentile", "giusto", "dicembre o gennaio", "magari", "dice", "otto euro", "nove", "più giù")
    assert [month_in(w) for w in words] == [None] * len(words)


COMPARISON = {
    "bill": {
        "id": "F100004-01",
        "supply": "luce",
        "amount_cents": 12_300,
        "unit": "kWh",
        "consumption": 410,
        "period_start": "2026-09-05",
        "period_end": "2026-11-03",
        "adjustment_cents": 6_550,
    },
    "previous": [{}, {}, {}],
    "average_previous_cents": 6_110,
    "average_previous_consumption": 195,
    "difference_percent": 101,
    "consumption_difference_percent": 110,
    "previous_estimated": 3,
    "reasons": ["adjustment", "higher_consumption"],
}


def test_a_conguaglio_is_explained_with_its_figures() -> None:
    text = formatters.bill_explanation(COMPARISON)
    assert "123,00\u00a0€, contro una media delle 3 bollette precedenti di 61,10\u00a0€ (+101\u00a0%)" in text
    assert "410 kWh dal 5 settembre 2026 al 3 novembre 2026, contro una media di 195 kWh (+110\u00a0%)" in text
    assert "bolletta di conguaglio" in text and "calcolate su letture stimate" in text and "65,50" in text


def test_an_ordinary_bill_is_said_to_be_in_line_and_an_estimated_one_says_so() -> None:
    ordinary = {**COMPARISON, "reasons": ["not_higher"], "difference_percent": -4, "previous": [{}]}
    ordinary["bill"] = {**COMPARISON["bill"], "adjustment_cents": None}
    text = formatters.bill_explanation(ordinary)
    assert "in linea" in text and "conguaglio" not in text and "della bolletta precedente" in text
    assert "(−4\u00a0%)" in text
    estimated = formatters.bill_explanation({**ordinary, "reasons": ["estimated_reading"]})
    assert "lettura stimata" in estimated
    alone = formatters.bill_explanation({**ordinary, "previous": [], "reasons": ["no_history"]})
    assert "Non ci sono bollette precedenti" in alone


def test_a_bill_on_a_button_fits_a_whatsapp_list_row() -> None:
    label = formatters.bill_month_button({"supply": "gas", "amount_cents": 136_000, "period_end": "2026-11-03"})
    assert label == "Gas 11/26 1.360,00\u00a0€" and len(label) <= 24
