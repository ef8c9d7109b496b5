"""Deferral: propose the latest allowed date or take the customer's, confirm, create."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded
from bot import clock, formatters
from bot.billing.client import new_idempotency_key, run_blocking
from bot.dates import parse_italian_date
from bot.formatters import italian_date

LATEST_WORDS = ("ultim", "massim", "piu tardi", "più tardi", "proposta", "va bene quella", "quella")


async def deferral_window(tracker: Tracker) -> dict[str, Any]:
    return await run_blocking(billing().deferral_options, tracker.get_slot("bill_id"), customer_token(tracker))


class DeferralValidation:
    async def validate_new_due_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        window = await deferral_window(tracker)
        earliest, latest = date.fromisoformat(window["earliest_date"]), date.fromisoformat(window["latest_date"])
        text = str(value or "")
        chosen = parse_italian_date(text, clock.today())
        if chosen is None and (
            tracker.get_intent_of_latest_message() == "affirm" or any(w in text.lower() for w in LATEST_WORDS)
        ):
            chosen = latest
        if chosen is None:
            dispatcher.utter_message(response="utter_new_due_date_not_understood")
            return {"new_due_date": None}
        if not earliest <= chosen <= latest:
            dispatcher.utter_message(
                response="utter_new_due_date_out_of_range",
                earliest=italian_date(earliest, "il"),
                latest=italian_date(latest, "il"),
                chosen=italian_date(chosen, "il"),
            )
            return {"new_due_date": None}
        return {"new_due_date": chosen.isoformat()}


class ActionAskNewDueDate(Action):
    def name(self) -> str:
        return "action_ask_new_due_date"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        window = await deferral_window(tracker)
        latest = date.fromisoformat(window["latest_date"])
        dispatcher.utter_message(
            response="utter_latest_due_date",
            to_latest=italian_date(latest, "al"),
            latest_short=formatters.short_date(latest),
        )
        return []


def deferral_summary(tracker: Tracker) -> str:
    return formatters.deferral_summary(date.fromisoformat(tracker.get_slot("new_due_date")))


async def create_deferral(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    new_date = date.fromisoformat(tracker.get_slot("new_due_date"))
    # One key per conversation, bill and date: a repeated confirmation replays, never duplicates.
    key = new_idempotency_key(tracker.sender_id, tracker.get_slot("bill_id"), "deferral", new_date.isoformat())
    created = await run_blocking(
        billing().create_deferral, tracker.get_slot("bill_id"), customer_token(tracker), new_date, key
    )
    dispatcher.utter_message(
        response="utter_deferral_created",
        new_date=italian_date(date.fromisoformat(created["new_due_date"]), "il"),
        previous_date=italian_date(date.fromisoformat(created["previous_due_date"]), "il"),
    )
