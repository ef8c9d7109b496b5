"""Stores: near any comune or CAP, or the customer's position, with the hours of a named day.

Issue 16. The town comes from the NLU's `city` entity, else from the message itself (a comune
named after "a/di/in...", bot/places.find_in_text: the NLU knows only the towns it was trained
on), else from the `city` slot (a follow-up: "e sabato?"). The day comes from the `day`
entity, else from the message ("sabato siete aperti?"), else, in a follow-up, from the `day`
slot; bot/dates.py turns it into a date from the business day. Both slots are kept after the
answer, so "e a Siena?" and "e domani?" are answered in the store topic
(docs/conversation-design.md, "Follow-ups"). The backend resolves the town (misspellings,
CAPs) and picks the nearest stores: actions only show them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apologise_backend_down, billing, guarded
from bot import clock, formatters, places
from bot.billing.client import BillingUnavailable, run_blocking
from bot.dates import parse_italian_date
from bot.folding import fold, fold_alnum

MAX_TOWN = 80
MAX_TEXT = 500
# how far ahead a day asked about may be (the hours are the weekly ones plus holidays)
MAX_DAYS_AHEAD = 366
# a message that starts like this refers to the previous store answer: "e sabato?", "invece a
# Siena?", "no, intendevo Siena", "anche domani?"
FOLLOW_UP_STARTS = ("e ", "ed ", "invece", "no ", "no,", "anche", "mentre", "intendevo", "piuttosto")


def is_follow_up(tracker: Tracker) -> bool:
    """The message completes the previous store request rather than starting a new one."""
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    text = fold((tracker.latest_message.get("text") or "").strip())
    return intent != "find_store" or text.startswith(FOLLOW_UP_STARTS) or len(text.split()) <= 1


def asked_town(tracker: Tracker) -> bool:
    """The assistant's last message asked for the town (or which of several)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            template = (event.get("metadata") or {}).get("utter_action")
            return template in ("utter_which_town", "utter_which_comune")
    return False


def wanted_town(tracker: Tracker) -> str | None:
    entity = next(tracker.get_latest_entity_values("city"), None)
    if entity:
        return str(entity)[:MAX_TOWN]
    text = tracker.latest_message.get("text") or ""
    found = places.find_in_text(text)
    if found:
        return found
    if asked_town(tracker) and text.strip() and not text.startswith("/"):
        return text.strip()[:MAX_TOWN]
    remembered = tracker.get_slot("city")
    return str(remembered)[:MAX_TOWN] if remembered and is_follow_up(tracker) else None


def wanted_day(tracker: Tracker, today: date) -> date | None:
    """The day asked about: from the `day` entity, the message, or in a follow-up the
    remembered day (the `day` slot holds its date); None for today, not asked."""
    candidates = [next(tracker.get_latest_entity_values("day"), None), tracker.latest_message.get("text")]
    if is_follow_up(tracker):
        candidates.append(tracker.get_slot("day"))
    for words in candidates:
        day = parse_italian_date(str(words)[:MAX_TEXT], today) if words else None
        if day is not None and today <= day and (day - today).days <= MAX_DAYS_AHEAD:
            return day
    return None


class ActionFindStore(Action):
    def name(self) -> str:
        return "action_find_store"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        today = clock.today()
        asked = wanted_day(tracker, today)
        day = asked or today
        label = formatters.day_label(day, today)
        remember_day = [SlotSet("day", asked.isoformat() if asked else None)]
        location = (tracker.latest_message.get("metadata") or {}).get("location") or {}
        try:
            if location.get("latitude") is not None and location.get("longitude") is not None:
                stores = await run_blocking(
                    billing().stores,
                    lat=float(location["latitude"]),
                    lon=float(location["longitude"]),
                    limit=3,
                    on=day,
                )
                dispatcher.utter_message(
                    response="utter_stores_nearby",
                    sample=formatters.sample_note(stores),
                    day=label,
                    stores=formatters.stores(stores, formatters.store_hours_on_day),
                )
                return remember_day
            town = wanted_town(tracker)
            if not town:
                dispatcher.utter_message(response="utter_which_town")
                return remember_day
            found = await run_blocking(billing().stores_near, town, on=day, limit=3)
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        return remember_day + self.answer(dispatcher, town, found, label)

    @staticmethod
    def answer(dispatcher: CollectingDispatcher, town: str, found: dict[str, Any], label: str) -> list[dict[str, Any]]:
        place = found.get("place")
        if place is None:
            candidates = found.get("candidates") or []
            if not candidates:
                dispatcher.utter_message(response="utter_town_not_found", town=town)
                return [SlotSet("city", None)]
            buttons = [
                {
                    "title": formatters.place_button(c),
                    "payload": "/find_store" + json.dumps({"city": formatters.place_button(c)}),
                }
                for c in candidates
            ]
            dispatcher.utter_message(response="utter_which_comune", town=town, buttons=buttons)
            return []
        stores = found["stores"]
        in_town = [s for s in stores if fold_alnum(s["city"]) == fold_alnum(place["name"])]
        hours = formatters.stores(in_town or stores, formatters.store_hours_on_day)
        if in_town:
            dispatcher.utter_message(
                response="utter_stores_in_town",
                town=place["name"],
                day=label,
                sample=formatters.sample_note(in_town),
                stores=hours,
            )
        else:
            dispatcher.utter_message(
                response="utter_stores_near_town",
                town=place["name"],
                where=formatters.nearest_where(found.get("nearest_by") or "", place),
                day=label,
                sample=formatters.sample_note(stores),
                stores=hours,
            )
        return [SlotSet("city", place["name"])]
