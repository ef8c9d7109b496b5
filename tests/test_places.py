"""Issue 16, in process: comuni and CAPs (bot/places.py), a store's hours on a given day
(bot/billing/opening.py) and the texts that name the day (bot/formatters.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot import formatters, places
from bot.billing import opening

TODAY = date(2026, 11, 26)  # a Thursday
WEEK = {
    "mon": [["08:30", "13:00"], ["14:30", "17:30"]],
    "thu": [["08:30", "13:00"], ["14:30", "17:30"]],
    "sat": [["08:30", "12:30"]],
    "sun": [],
}


@pytest.mark.parametrize(
    ("written", "name", "how"),
    [
        ("Montepulciano", "Montepulciano", "exact"),
        ("MONTEPULCIANO ", "Montepulciano", "exact"),
        ("laquila", "L'Aquila", "exact"),
        ("53045", "Montepulciano", "cap"),
        ("Arrezzo", "Arezzo", "fuzzy"),
        ("Sena", "Siena", "fuzzy"),  # Scena (BZ) is as close, but 20 times smaller
        ("Grosetto", "Grosseto", "fuzzy"),
        ("Reggio Emilia", "Reggio nell'Emilia", "fuzzy"),
        ("Samone (TN)", "Samone", "exact"),
    ],
)
def test_a_comune_is_found_as_customers_write_it(written, name, how):
    found = places.resolve(written)
    assert found.place is not None and found.place.name == name and found.how == how


def test_several_or_no_comuni():
    assert {p.province_code for p in places.resolve("Samone").places} == {"TO", "TN"}
    assert places.resolve("Xyzzyville").places == ()
    assert places.resolve("").places == ()
    assert places.resolve("00000").places == ()
    # bounded: a long text is cut, not scanned whole
    assert places.resolve("Siena" + "x" * 10_000).place is None


def test_positions_and_the_province_fallbacks():
    florence = places.resolve("Firenze").place
    assert florence is not None and florence.lat == pytest.approx(43.78, abs=0.05)
    assert places.region_of_province("LU") == "Toscana"
    centre = places.province_centre("SI")
    assert centre is not None and 42.9 < centre[0] < 43.5


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("c'è uno sportello a Montepulciano?", "Montepulciano"),
        ("lo sportello di via Roma a Prato", "Prato"),
        ("abito a San Giovanni Valdarno, dove siete?", "San Giovanni Valdarno"),
        ("indirizzo ufficio di L'Aquila", "L'Aquila"),
        ("sono in zona 53045", "53045"),
        ("no, intendevo Grosseto", "Grosseto"),
        ("vorrei venire di persona", None),
        ("a che ora aprite sabato?", None),
    ],
)
def test_the_town_named_in_a_message(text, town):
    assert places.find_in_text(text) == town


@pytest.mark.parametrize(
    ("day", "periods", "special"),
    [
        (date(2026, 11, 26), (("08:30", "13:00"), ("14:30", "17:30")), None),
        (date(2026, 11, 28), (("08:30", "12:30"),), None),
        (date(2026, 11, 29), (), None),
        (date(2026, 12, 8), (), "Immacolata Concezione"),
        (date(2026, 12, 24), (("08:30", "12:30"),), "Vigilia di Natale"),  # a Thursday, cut at 12:30
        (date(2027, 3, 29), (), "Lunedì dell'Angelo"),
    ],
)
def test_hours_on_a_day(day, periods, special):
    assert opening.hours_on(WEEK, "SI", day) == opening.DayHours(periods, special)


def test_a_patron_saint_closes_only_its_province():
    assert opening.hours_on(WEEK, "FI", date(2027, 6, 24)).special == "San Giovanni Battista"
    assert opening.hours_on(WEEK, "PO", date(2027, 6, 24)).special is None


def test_the_answer_names_the_day():
    assert formatters.day_label(date(2026, 11, 28), TODAY) == "sabato 28 novembre"
    assert formatters.day_label(TODAY, TODAY) == "oggi, giovedì 26 novembre"
    assert formatters.day_label(date(2026, 11, 27), TODAY) == "domani, venerdì 27 novembre"
    assert formatters.day_label(date(2027, 1, 1), TODAY) == "venerdì 1º gennaio 2027"
    closed = {"open_on": [], "special_day": "Natale"}
    short = {"open_on": [{"opens": "08:30", "closes": "12:30"}], "special_day": "Vigilia di Natale"}
    assert formatters.store_hours_on_day(closed) == "chiuso (Natale)"
    assert formatters.store_hours_on_day(short) == "aperto 08:30–12:30 (Vigilia di Natale)"
    place = {"province": "Lucca", "region": "Toscana"}
    assert formatters.nearest_where("region", place) == " in Toscana"
    assert formatters.nearest_where("distance", place) == ""


def test_a_misspelled_town_after_a_place_word_is_found_in_a_sentence():
    # the NLU tags only towns like those it was trained on; the action reads the rest here
    assert places.find_in_text("dove si trova lo sportello di Arrezzo?") == "Arezzo"
    assert places.find_in_text("c'è uno sportello vicino a Montepulciamo?") == "Montepulciano"
    # capitalised words only, and never a month: ordinary words are not towns one letter off
    assert places.find_in_text("la bolletta di Marzo è alta") is None
    assert places.find_in_text("ho pagato in ritardo") is None
