"""Meter self-reading (autolettura): which meter, the numbers, checked and recorded once.

The backend checks the reading against the last one and the consumption profile and records
it; a reading above the profile is recorded only after the customer confirms it. The reading
is sent with an Idempotency-Key made of the conversation, the meter and the numbers: a repeated
confirmation, or a retried call, records it once.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import BillingError, new_idempotency_key, run_blocking
from bot.folding import fold

# "4.500", "12345", "1234,56" (the decimals are not read: meters are read in whole units)
_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+|\d+")
_LABELLED = re.compile(r"\bf\s?([123])\b\D{0,12}?(\d{1,3}(?:\.\d{3})+|\d+)")
_DECIMALS = re.compile(r"(\d),\d+")
MAX_TEXT = 300  # a reading is a few numbers: longer text is cut before parsing


def parse_registers(text: str, names: list[str]) -> dict[str, int] | None:
    """The numbers of a reading: "F1 4500 F2 3400 F3 5200", "4500 3400 5200", "12.345 m3"."""
    plain = _DECIMALS.sub(r"\1", fold(text[:MAX_TEXT]).replace("m3", " ").replace("kwh", " "))
    if names != ["total"]:
        labelled = {f"F{n}": int(v.replace(".", "")) for n, v in _LABELLED.findall(plain)}
        if sorted(labelled) == names:
            return labelled
    numbers = [int(n.replace(".", "")) for n in _NUMBER.findall(plain)]
    if len(numbers) != len(names):
        return None
    return dict(zip(names, numbers, strict=True))


async def meters(tracker: Tracker) -> list[dict[str, Any]]:
    return await run_blocking(billing().meters, tracker.get_slot("customer_code"), customer_token(tracker))


def chosen_meter(found: list[dict[str, Any]], tracker: Tracker) -> dict[str, Any] | None:
    kind = tracker.get_slot("meter_supply")
    return next((m for m in found if m["supply"] == kind), None)


def reading_slots(tracker: Tracker) -> list[str]:
    return ["meter_supply", "meter_reading"] + (["confirmed"] if tracker.get_slot("reading_high") else [])


async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """One meter: take it. The chosen meter's window closed: say when it opens, end there."""
    if tracker.get_slot("meter_reading"):
        return []
    found = await meters(tracker)
    events: Events = []
    meter = chosen_meter(found, tracker)
    if meter is None and len(found) == 1:
        meter = found[0]
        events.append(SlotSet("meter_supply", meter["supply"]))
    if meter is not None and not meter["window_open"]:
        dispatcher.utter_message(
            response="utter_reading_window_closed",
            opens=formatters.italian_date(date.fromisoformat(meter["window_opens"]), "dal"),
            closes=formatters.italian_date(date.fromisoformat(meter["window_closes"]), "al"),
        )
        events.append(SlotSet("flow_outcome", "answered"))
    return events


class ReadingValidation:
    async def validate_meter_supply(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = fold(str(value or ""))
        kinds = [kind for kind, words in (("luce", ("luce", "corrente", "elettric")), ("gas", ("gas", "metano")))
                 if any(w in text for w in words)]  # fmt: skip
        found = await meters(tracker)
        if len(kinds) != 1 or not any(m["supply"] == kinds[0] for m in found):
            dispatcher.utter_message(response="utter_meter_supply_not_understood")
            return {"meter_supply": None}
        return {"meter_supply": kinds[0]}

    async def validate_meter_reading(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        meter = chosen_meter(await meters(tracker), tracker)
        if meter is None:
            return {"meter_reading": None, "meter_supply": None}
        registers = parse_registers(str(value or ""), meter["registers"])
        if registers is None:
            response = "utter_reading_three_numbers" if len(meter["registers"]) == 3 else "utter_reading_one_number"
            dispatcher.utter_message(response=response)
            return {"meter_reading": None}
        try:
            receipt = await submit_reading(tracker, meter, registers, confirm_high=False)
        except BillingError as error:
            if error.code == "reading_lower":
                dispatcher.utter_message(response="utter_reading_lower", last=last_reading_text(meter))
                return {"meter_reading": None}
            if error.code == "reading_implausible":
                return {"meter_reading": json.dumps(registers), "reading_high": True}
            raise
        return {"meter_reading": json.dumps(registers), "reading_receipt": json.dumps(receipt)}


def last_reading_text(meter: dict[str, Any]) -> str:
    return formatters.last_reading(meter.get("last_reading"), meter["unit"])


async def submit_reading(
    tracker: Tracker, meter: dict[str, Any], registers: dict[str, int], confirm_high: bool
) -> dict[str, Any]:
    key = new_idempotency_key(
        tracker.sender_id, "reading", str(meter["supply_id"]), json.dumps(registers, sort_keys=True), str(confirm_high)
    )
    return await run_blocking(
        billing().submit_reading, meter["supply_id"], customer_token(tracker), registers, confirm_high, key
    )


class ActionAskMeterSupply(Action):
    def name(self) -> str:
        return "action_ask_meter_supply"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(response="utter_which_meter")
        return []


class ActionAskMeterReading(Action):
    def name(self) -> str:
        return "action_ask_meter_reading"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        meter = chosen_meter(await meters(tracker), tracker)
        if meter is None:
            dispatcher.utter_message(response="utter_which_meter")
            return []
        three = len(meter["registers"]) == 3
        dispatcher.utter_message(
            response="utter_reading_three_rates_please" if three else "utter_reading_please",
            unit=meter["unit"],
            supply=meter["supply"],
            last=last_reading_text(meter),
        )
        return []


async def summary(tracker: Tracker) -> str:
    meter = chosen_meter(await meters(tracker), tracker)
    registers = json.loads(tracker.get_slot("meter_reading"))
    unit = meter["unit"] if meter else ""
    return formatters.reading_summary(tracker.get_slot("meter_supply"), registers, unit)


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    receipt_text = tracker.get_slot("reading_receipt")
    found = await meters(tracker)
    meter = chosen_meter(found, tracker)
    if meter is None:
        return []
    if receipt_text:
        receipt = json.loads(receipt_text)
    else:  # above the profile and confirmed: now recorded
        receipt = await submit_reading(tracker, meter, json.loads(tracker.get_slot("meter_reading")), confirm_high=True)
    dispatcher.utter_message(
        response="utter_reading_recorded",
        supply=receipt["supply"],
        reading=formatters.meter_registers(receipt["registers"], meter["unit"]),
        consumed=f"{receipt['consumed']} {meter['unit']}",
        used_from=formatters.italian_date(date.fromisoformat(receipt["used_for_reading_of"]), "del"),
    )
    return []


SERVICE = SelfService(slots=reading_slots, submit=submit, prepare=prepare, summary=summary)


class ActionPhotoReceived(Action):
    """A photo (on WhatsApp, an image without text; or the customer says they send one): the
    assistant cannot read it, so it asks for the numbers typed; while the self-reading asks for
    them, it says to type them there (the form then asks again, with the meter's registers)."""

    def name(self) -> str:
        return "action_photo_received"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        asking_reading = (
            tracker.active_loop_name == "customer_form" and tracker.get_slot("requested_slot") == "meter_reading"
        )
        dispatcher.utter_message(response="utter_photo_in_reading_form" if asking_reading else "utter_photo_received")
        return []
