"""Written complaint (reclamo): category, the customer's text, confirmation; registered once
with a protocol number; the regulated answer time said; a ticket of its own in the console."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded, logger
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import new_idempotency_key, run_blocking
from bot.dates import parse_number
from bot.folding import fold
from bot.rules import engine as rules

MIN_TEXT, MAX_TEXT = 10, 4000  # the backend's bounds
# words that point at a category when the customer writes instead of tapping a button
CATEGORY_WORDS = {
    "fatturazione": ("fattur", "bolletta", "import", "conguagl", "addebit", "cost"),
    "letture": ("lettur", "consum", "contator", "stima"),
    "pagamenti": ("pagament", "sollecit", "mora", "rimbors"),
    "contratto": ("contratt", "offert", "attivazion", "voltura", "disdett"),
    "servizio": ("servizio", "operator", "attesa", "maleducat", "risposta"),
    "altro": ("altro",),
}


def complaint_slots(tracker: Tracker) -> list[str]:
    return ["complaint_category", "complaint_text", "confirmed"]


def category_in(text: str) -> str | None:
    categories = rules.complaint_categories()
    plain = fold(text[:200]).strip()
    if plain in categories:
        return plain
    number = parse_number(plain)
    if number is not None and 1 <= number <= len(categories) and len(plain) <= 3:
        return list(categories)[number - 1]
    hits = [c for c, words in CATEGORY_WORDS.items() if any(w in plain for w in words)]
    return hits[0] if len(hits) == 1 else None


class ComplaintValidation:
    async def validate_complaint_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        category = category_in(str(value or ""))
        if category is None:
            dispatcher.utter_message(response="utter_complaint_category_not_understood")
            return {"complaint_category": None}
        return {"complaint_category": category}

    async def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < MIN_TEXT:
            dispatcher.utter_message(response="utter_complaint_text_too_short")
            return {"complaint_text": None}
        # The words may sound like another request ("letture stimate"): the intent's from_intent
        # mapping has then moved `service`; the text answers the complaint's question.
        return {"complaint_text": text[:MAX_TEXT], "service": "complaint"}


class ActionAskComplaintCategory(Action):
    def name(self) -> str:
        return "action_ask_complaint_category"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(
            response="utter_complaint_category_please",
            buttons=[
                {"title": label, "payload": "/inform" + json.dumps({"complaint_category": category})}
                for category, label in rules.complaint_categories().items()
            ],
        )
        return []


class ActionAskComplaintText(Action):
    def name(self) -> str:
        return "action_ask_complaint_text"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(response="utter_complaint_text_please")
        return []


async def summary(tracker: Tracker) -> str:
    label = rules.complaint_categories().get(tracker.get_slot("complaint_category"), "")
    return formatters.complaint_summary(label, tracker.get_slot("complaint_text") or "")


async def open_complaint_ticket(tracker: Tracker, created: dict[str, Any]) -> None:
    """The complaint as its own kind of ticket in the console (reason "complaint"): the bot is not
    paused, the team answers in writing within the regulated time."""
    from actions.handoff import desk  # the support database, opened on first use
    from bot.support.handoff import conversation_summary

    channel = tracker.get_latest_input_channel()
    summary = conversation_summary(tracker.events, tracker.current_slot_values(), channel, "complaint")
    summary["complaint"] = {
        "protocol": created["protocol"],
        "category": created["category"],
        "answer_due_on": created["answer_due_on"],
    }
    try:
        await asyncio.to_thread(lambda: desk().open_ticket(tracker.sender_id, channel, "complaint", summary))
    except Exception as error:  # noqa: BLE001 - the complaint is registered; the ticket is a copy
        logger.error("complaint ticket failed: %s", type(error).__name__)


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    category, text = tracker.get_slot("complaint_category"), tracker.get_slot("complaint_text")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    key = new_idempotency_key(tracker.sender_id, "complaint", category, digest)
    created = await run_blocking(
        billing().file_complaint, tracker.get_slot("customer_code"), customer_token(tracker), category, text, key
    )
    await open_complaint_ticket(tracker, created)
    dispatcher.utter_message(
        response="utter_complaint_registered",
        protocol=created["protocol"],
        answer_days=created["answer_days"],
        answer_due=formatters.answer_due(date.fromisoformat(created["answer_due_on"])),
        indemnity=formatters.euros(created["indemnity_eur"] * 100),
    )
    return []


SERVICE = SelfService(slots=complaint_slots, submit=submit, summary=summary)
