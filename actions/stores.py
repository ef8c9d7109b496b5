"""Stores: by town, province or position, with today's opening hours."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apologise_backend_down, billing, guarded
from bot import formatters
from bot.billing.client import BillingUnavailable, run_blocking


async def find_stores(city: str | None, lat: float | None = None, lon: float | None = None) -> list[dict[str, Any]]:
    if lat is not None and lon is not None:
        return await run_blocking(billing().stores, lat=lat, lon=lon, limit=3)
    stores = await run_blocking(billing().stores, city=city, limit=3)
    if not stores:
        stores = await run_blocking(billing().stores, province=city, limit=3)
    return stores


class ActionFindStore(Action):
    def name(self) -> str:
        return "action_find_store"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        location = (tracker.latest_message.get("metadata") or {}).get("location") or {}
        if location.get("latitude") is not None and location.get("longitude") is not None:
            stores = await find_stores(None, float(location["latitude"]), float(location["longitude"]))
            dispatcher.utter_message(
                response="utter_stores_nearby", sample=formatters.sample_note(stores), stores=formatters.stores(stores)
            )
            return []
        city = next(tracker.get_latest_entity_values("city"), None) or tracker.get_slot("city")
        if not city:
            dispatcher.utter_message(response="utter_which_town")
            return []
        try:
            stores = await find_stores(city)
            if not stores:
                every = await run_blocking(billing().stores, limit=100)
                dispatcher.utter_message(response="utter_no_store_in_town", town=city, towns=formatters.towns(every))
                return [SlotSet("city", None)]
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        dispatcher.utter_message(
            response="utter_stores_in_town",
            town=city,
            sample=formatters.sample_note(stores),
            stores=formatters.stores(stores),
        )
        return [SlotSet("city", None)]
