"""Stores: by town, province or position, with today's opening hours."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import apologise_backend_down, billing, guarded
from bot.billing.client import BillingUnavailable, run_blocking


def hours_today(store: Dict[str, Any]) -> str:
    periods = store["open_today"]
    if not periods:
        return "oggi è chiuso"
    return "oggi è aperto " + " e ".join(f"dalle {p['opens']} alle {p['closes']}" for p in periods)


def describe_stores(stores: List[Dict[str, Any]]) -> str:
    lines = []
    for store in stores:
        distance = f" (a {store['distance_km']:.0f} km)".replace(".", ",") if store.get("distance_km") is not None else ""
        phone = f", tel. {store['phone']}" if store.get("phone") else ""
        lines.append(f"• {store['name']}, {store['address']}, {store['city']}{distance}{phone}: {hours_today(store)}.")
    return "\n".join(lines)


async def find_stores(city: Optional[str], lat: Optional[float] = None, lon: Optional[float] = None) -> List[Dict[str, Any]]:
    if lat is not None and lon is not None:
        return await run_blocking(billing().stores, lat=lat, lon=lon, limit=3)
    stores = await run_blocking(billing().stores, city=city, limit=3)
    if not stores:
        stores = await run_blocking(billing().stores, province=city, limit=3)
    return stores


class ActionFindStore(Action):
    def name(self) -> Text:
        return "action_find_store"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        location = (tracker.latest_message.get("metadata") or {}).get("location") or {}
        if location.get("latitude") is not None and location.get("longitude") is not None:
            stores = await find_stores(None, float(location["latitude"]), float(location["longitude"]))
            sample = " (elenco di esempio)" if any(s["sample_data"] for s in stores) else ""
            dispatcher.utter_message(text=f"Gli sportelli più vicini a Lei{sample}:\n{describe_stores(stores)}")
            return []
        city = next(tracker.get_latest_entity_values("city"), None) or tracker.get_slot("city")
        if not city:
            dispatcher.utter_message(text="In quale comune cerca lo sportello? Me lo scriva e Le dico il più vicino con gli orari di oggi.")
            return []
        try:
            stores = await find_stores(city)
            if not stores:
                every = await run_blocking(billing().stores, limit=100)
                towns = sorted({s["city"] for s in every})
                dispatcher.utter_message(
                    text=f"Non abbiamo uno sportello a {city}. Gli sportelli sono a: {', '.join(towns)}. "
                         "Mi dica il comune più comodo per Lei."
                )
                return [SlotSet("city", None)]
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        sample = " (elenco di esempio)" if any(s["sample_data"] for s in stores) else ""
        dispatcher.utter_message(text=f"Ecco gli sportelli a {city}{sample}:\n{describe_stores(stores)}")
        return [SlotSet("city", None)]
