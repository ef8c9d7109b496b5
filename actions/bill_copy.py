"""A copy of a bill (issue 12): the verified customer's bill as a PDF.

Which bill: the one the request names (month, supply, "la precedente", its number), else the
latest; when the words fit several, the customer picks one from buttons (any bill, paid ones
too: `history_bill`). On WhatsApp the PDF arrives as a document message (the channel fetches it
by a short-lived signed link and uploads it to Meta, bot/channels/whatsapp/output.py); on the
website and other channels the customer gets the link itself, valid a few minutes
(bot/billing/links.py). Neither carries the customer token. Nothing is sent before the
customer form has verified the customer.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.bills import all_bills, bills_named
from actions.common import billing, customer_token, guarded
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import run_blocking
from bot.settings import get_settings

OTHER_BILLS = 3  # buttons for other bills after a copy
ASK_BILLS = 10  # buttons when asking which bill (a WhatsApp list holds 10 rows)


def history_slots(tracker: Tracker) -> list[str]:
    return ["history_bill"]


def request_text(tracker: Tracker) -> str:
    """The words of the request that started this service ("la bolletta di settembre"): the
    customer may have been asked for their codes since."""
    service_intents = {"bill_copy": "request_bill_copy", "explanation": "ask_bill_explanation"}
    intent = service_intents.get(tracker.get_slot("service") or "")
    for event in reversed(tracker.events):
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
            return str(event.get("text") or "")
    return ""


async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Pick the bill the request names, or the latest; leave it to a question when the words fit
    several (or none); no bills at all: say so and end."""
    if tracker.get_slot("history_bill"):
        return []
    bills = await all_bills(tracker)
    if not bills:
        dispatcher.utter_message(response="utter_no_bills_issued")
        return [SlotSet("flow_outcome", "answered")]
    named = bills_named(request_text(tracker), bills)
    if named is None:
        return [SlotSet("history_bill", bills[0]["id"])]
    if len(named) == 1:
        return [SlotSet("history_bill", named[0]["id"])]
    return []


class HistoryBillValidation:
    async def validate_history_bill(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        named = bills_named(str(value or ""), await all_bills(tracker)) or []
        if len(named) != 1:
            dispatcher.utter_message(response="utter_history_bill_not_understood")
            return {"history_bill": None}
        return {"history_bill": named[0]["id"]}


def bill_buttons(bills: list[dict[str, Any]], intent: str) -> list[dict[str, str]]:
    return [
        {"title": formatters.bill_month_button(b), "payload": f"/{intent}" + json.dumps({"history_bill": b["id"]})}
        for b in bills
    ]


class ActionAskHistoryBill(Action):
    """Which bill: a button for each of the latest ones (the customer may also write the month)."""

    def name(self) -> str:
        return "action_ask_history_bill"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        bills = await all_bills(tracker)
        dispatcher.utter_message(response="utter_which_history_bill", buttons=bill_buttons(bills[:ASK_BILLS], "inform"))
        return []


async def chosen_bill(tracker: Tracker) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    bills = await all_bills(tracker)
    return next((b for b in bills if b["id"] == tracker.get_slot("history_bill")), None), bills


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    bill, bills = await chosen_bill(tracker)
    if bill is None or not tracker.get_slot("customer_verified"):
        dispatcher.utter_message(response="utter_history_bill_not_understood")
        return []
    link = await run_blocking(billing().bill_download_link, bill["id"], customer_token(tracker))
    label = formatters.bill_label(bill)
    if tracker.get_latest_input_channel() == "whatsapp":
        dispatcher.utter_message(response="utter_bill_copy_whatsapp", bill=label)
        document = {
            "token": link["token"],
            "filename": formatters.bill_document_file(bill),
            "caption": formatters.bill_caption(bill),
        }
        dispatcher.utter_message(json_message={"bill_document": document})
    else:
        settings = get_settings()
        dispatcher.utter_message(
            response="utter_bill_copy_link",
            bill=label,
            minutes=settings.bill_link_minutes,
            url=f"{settings.web_public_url}/bolletta/{link['token']}",
        )
    others = [b for b in bills if b["id"] != bill["id"]][:OTHER_BILLS]
    if others:
        dispatcher.utter_message(
            response="utter_bill_copy_other_bills", buttons=bill_buttons(others, "request_bill_copy")
        )
    return []


SERVICE = SelfService(slots=history_slots, submit=submit, prepare=prepare)
