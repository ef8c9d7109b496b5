"""Italian date expressions relative to the business day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dates import parse_italian_date, parse_number

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize("text, expected", [
    ("entro il 30", date(2026, 11, 30)),
    ("il 10", date(2026, 12, 10)),
    ("fine mese", date(2026, 11, 30)),
    ("a fine mese prossimo", date(2026, 12, 31)),
    ("fine dicembre", date(2026, 12, 31)),
    ("tra due settimane", date(2026, 12, 10)),
    ("fra 10 giorni", date(2026, 12, 6)),
    ("tra un mese", date(2026, 12, 26)),
    ("il 15 dicembre", date(2026, 12, 15)),
    ("15 gennaio", date(2027, 1, 15)),
    ("20/12", date(2026, 12, 20)),
    ("05/01/2027", date(2027, 1, 5)),
    ("2026-12-24", date(2026, 12, 24)),
    ("lunedì prossimo", date(2026, 11, 30)),
    ("giovedi", date(2026, 12, 3)),
    ("domani", date(2026, 11, 27)),
    ("oggi", TODAY),
])
def test_expressions(text, expected):
    assert parse_italian_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["boh", "quando posso", "31/02", "il 45"])
def test_no_date(text):
    assert parse_italian_date(text, TODAY) is None


@given(today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), day=st.integers(1, 31))
def test_day_of_month_is_never_in_the_past(today, day):
    found = parse_italian_date(f"entro il {day}", today)
    assert found is None or (found >= today and found.day == day and found - today < timedelta(days=93))


@pytest.mark.parametrize("text, number", [("3", 3), ("in tre rate", 3), ("facciamo 6", 6), ("sette", 7), ("boh", None)])
def test_numbers(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize("text, expected", [
    ("15/12/2020", date(2020, 12, 15)),
    ("2025-12-15", date(2025, 12, 15)),
    ("il 15 dicembre 2040", date(2040, 12, 15)),
])
def test_a_year_the_customer_writes_is_kept_even_in_the_past(text, expected):
    # The module docstring once promised "always in the future": callers must check the range.
    assert parse_italian_date(text, TODAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("siete aperti a Natale?", date(2026, 12, 25)),
    ("e la vigilia di Natale?", date(2026, 12, 24)),
    ("a santo stefano", date(2026, 12, 26)),
    ("l'ultimo dell'anno", date(2026, 12, 31)),
    ("a Capodanno", date(2027, 1, 1)),
    ("all'Immacolata", date(2026, 12, 8)),
    ("il lunedì di Pasquetta", date(2027, 3, 29)),
    ("a Pasqua", date(2027, 3, 28)),
    ("a Ferragosto", date(2027, 8, 15)),
    ("il 24 dicembre", date(2026, 12, 24)),
    ("sabato", date(2026, 11, 28)),
    ("dopodomani", date(2026, 11, 28)),
])
def test_named_days(text, expected):
    """Issue 16: the stores' hours on a named day."""
    assert parse_italian_date(text, TODAY) == expected
