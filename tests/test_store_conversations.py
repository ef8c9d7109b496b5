"""Issue 16 over REST against the real stack: stores near any town, a named day's hours,
misspelled towns, homonyms and store follow-ups. The business day is Thursday 26 November 2026."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.harness.stack import Stack, running_stack


def text(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def bullets(replies: list[dict]) -> int:
    return sum(1 for line in text(replies).splitlines() if line.lstrip().startswith(("-", "•")))


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    with running_stack(tmp_path_factory.mktemp("stores")) as running:
        yield running


def sender() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def test_saturday_hours_in_grosseto(stack):
    answer = text(stack.say(sender(), "sabato siete aperti a Grosseto?"))
    assert "sabato 28 novembre" in answer and "Store Grosseto" in answer
    assert "08:30–12:30" in answer and "14:30" not in answer  # Saturday's hours, not Thursday's


def test_a_town_without_a_store_gets_the_nearest_ones(stack):
    replies = stack.say(sender(), "c'è uno sportello a Montepulciano?")
    answer = text(replies)
    assert "A Montepulciano non abbiamo uno sportello" in answer and " km)" in answer
    assert "Store Arezzo" in answer and "Store Siena" in answer
    assert "Prato" not in answer and bullets(replies) <= 3  # not the list of every town


def test_a_town_of_another_region_and_a_cap(stack):
    pesaro = text(stack.say(sender(), "avete un ufficio a Pesaro?"))
    assert "A Pesaro non abbiamo uno sportello" in pesaro and "Sportello Fano" in pesaro
    cap = text(stack.say(sender(), "sportello vicino al CAP 53045"))
    assert "Montepulciano" in cap and " km)" in cap


def test_a_misspelled_town_is_found(stack):
    answer = text(stack.say(sender(), "dove si trova lo sportello di Arrezzo?"))
    assert "Store Arezzo" in answer and "Non trovo" not in answer


def test_a_misspelled_town_given_when_asked(stack):
    who = sender()
    asked = text(stack.say(who, "dove si trova il vostro sportello?"))
    assert "In quale comune" in asked
    answer = text(stack.say(who, "Montepulciamo"))
    assert "A Montepulciano non abbiamo uno sportello" in answer


def test_homonyms_are_chosen_with_buttons(stack):
    who = sender()
    replies = stack.say(who, "c'è uno sportello a Samone?")
    assert "Quale intende?" in text(replies)
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert {b["title"] for b in buttons} == {"Samone (TO)", "Samone (TN)"}
    chosen = next(b for b in buttons if b["title"] == "Samone (TN)")
    assert chosen["payload"] == "/find_store" + json.dumps({"city": "Samone (TN)"})
    answer = text(stack.say(who, chosen["payload"]))
    assert "A Samone non abbiamo uno sportello" in answer and " km)" in answer


def test_a_holiday_closes_the_stores(stack):
    answer = text(stack.say(sender(), "siete aperti a Natale a Prato?"))
    assert "venerdì 25 dicembre" in answer and "chiuso (Natale)" in answer


def test_store_follow_ups_keep_the_town_and_the_day(stack):
    who = sender()
    today = text(stack.say(who, "dove si trova lo sportello di Arezzo?"))
    assert "oggi, giovedì 26 novembre" in today and "Store Arezzo" in today
    saturday = text(stack.say(who, "e che orari fa sabato?"))
    assert "sabato 28 novembre" in saturday and "Store Arezzo" in saturday
    siena = text(stack.say(who, "e a Siena?"))
    assert "Store Siena" in siena and "sabato 28 novembre" in siena
    tomorrow = text(stack.say(who, "e domani?"))
    assert "Store Siena" in tomorrow and "domani, venerdì 27 novembre" in tomorrow
