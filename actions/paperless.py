"""Paperless billing (bolletta via e-mail): the address the bills go to, set or changed.

The address is read out of the message and checked (bot/customer_data.py: email-validator,
syntax only), shown in full once in the confirmation so the customer can spot a typo, then
only masked (m***@example.it). Sent with an Idempotency-Key made of the conversation and the
address: a repeated confirmation changes it once.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AskWithResponse, billing, customer_token
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import new_idempotency_key, run_blocking
from bot.customer_data import email_in


def paperless_slots(tracker: Tracker) -> list[str]:
    return ["paperless_email", "confirmed"]


async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Already paperless: say to which address (masked), once."""
    if tracker.get_slot("paperless_current"):
        return []
    found = await run_blocking(billing().paperless, tracker.get_slot("customer_code"), customer_token(tracker))
    if found["paperless"] and found["email_masked"]:
        dispatcher.utter_message(response="utter_paperless_current", email=found["email_masked"])
    return [SlotSet("paperless_current", found["email_masked"] if found["paperless"] else "none")]


async def check_email(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    email = email_in(str(value or ""))
    if email is None:
        dispatcher.utter_message(response="utter_email_invalid")
        return {"paperless_email": None}
    return {"paperless_email": email}


class PaperlessValidation:
    async def validate_paperless_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return await check_email(value, dispatcher, tracker)


class ActionAskPaperlessEmail(AskWithResponse):
    action_name = "action_ask_paperless_email"
    response = "utter_paperless_email_please"


async def summary(tracker: Tracker) -> str:
    return formatters.paperless_summary(tracker.get_slot("paperless_email") or "")


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    email = tracker.get_slot("paperless_email")
    key = new_idempotency_key(tracker.sender_id, "paperless", email)
    done = await run_blocking(
        billing().set_paperless, tracker.get_slot("customer_code"), customer_token(tracker), email, key
    )
    response = "utter_paperless_done" if done["changed"] else "utter_paperless_unchanged"
    dispatcher.utter_message(response=response, email=done["email_masked"])
    return []


SERVICE = SelfService(slots=paperless_slots, submit=submit, prepare=prepare, summary=summary)
