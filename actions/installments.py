"""Installments: show the options with amounts and dates, confirm, create, summarise."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded
from bot import formatters
from bot.billing.client import new_idempotency_key, run_blocking
from bot.dates import parse_number


async def installment_choices(tracker: Tracker) -> dict[str, Any]:
    return await run_blocking(billing().installment_options, tracker.get_slot("bill_id"), customer_token(tracker))


class InstallmentsValidation:
    async def validate_installment_count(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        options = (await installment_choices(tracker))["options"]
        counts = [o["count"] for o in options]
        count = parse_number(str(value or ""))
        if count is None and len(counts) == 1 and tracker.get_intent_of_latest_message() == "affirm":
            count = counts[0]
        if count not in counts:
            dispatcher.utter_message(
                response="utter_installment_count_not_offered", counts=formatters.alternatives(counts)
            )
            return {"installment_count": None}
        return {"installment_count": str(count)}


class ActionAskInstallmentCount(Action):
    def name(self) -> str:
        return "action_ask_installment_count"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        choices = await installment_choices(tracker)
        dispatcher.utter_message(
            response="utter_installment_options",
            scheme=choices["scheme_label"],
            options=formatters.installment_options(choices["options"]),
            buttons=[
                {
                    "title": formatters.installments_button(o["count"]),
                    "payload": "/inform" + json.dumps({"installment_count": str(o["count"])}),
                }
                for o in choices["options"]
            ],
        )
        return []


async def installments_summary(tracker: Tracker) -> str:
    choices = await installment_choices(tracker)
    count = int(tracker.get_slot("installment_count"))
    option = next(o for o in choices["options"] if o["count"] == count)
    return formatters.installments_summary(count, option["installments"])


async def create_plan(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    count = int(tracker.get_slot("installment_count"))
    key = new_idempotency_key(tracker.sender_id, tracker.get_slot("bill_id"), "plan", str(count))
    plan = await run_blocking(billing().create_plan, tracker.get_slot("bill_id"), customer_token(tracker), count, key)
    dispatcher.utter_message(
        response="utter_plan_created",
        count=len(plan["installments"]),
        total=formatters.euros(plan["total_cents"]),
        schedule=formatters.installment_schedule(plan["installments"]),
    )
