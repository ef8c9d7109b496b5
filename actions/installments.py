"""Installments: show the options with amounts and dates, confirm, create, summarise."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, euros, guarded, italian_date
from bot.billing.client import new_idempotency_key, run_blocking
from bot.dates import parse_number


async def installment_choices(tracker: Tracker) -> Dict[str, Any]:
    return await run_blocking(billing().installment_options, tracker.get_slot("bill_id"), customer_token(tracker))


def schedule_text(installments: List[Dict[str, Any]]) -> str:
    return "\n".join(
        f"• {i['number']}ª rata: {euros(i['amount_cents'])} entro {italian_date(date.fromisoformat(i['due_date']), 'il')}"
        for i in installments
    )


class InstallmentsValidation:
    async def validate_installment_count(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        options = (await installment_choices(tracker))["options"]
        counts = [o["count"] for o in options]
        count = parse_number(str(value or ""))
        if count is None and len(counts) == 1 and tracker.get_intent_of_latest_message() == "affirm":
            count = counts[0]
        if count not in counts:
            allowed = " o ".join(str(c) for c in counts)
            dispatcher.utter_message(text=f"Per questa bolletta le rate possibili sono {allowed}. Quante ne preferisce?")
            return {"installment_count": None}
        return {"installment_count": str(count)}


class ActionAskInstallmentCount(Action):
    def name(self) -> Text:
        return "action_ask_installment_count"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        choices = await installment_choices(tracker)
        lines = [f"{choices['scheme_label']}: ecco le possibilità."]
        for option in choices["options"]:
            first = option["installments"][0]
            lines.append(f"• {option['count']} rate, la prima di {euros(first['amount_cents'])} entro "
                         f"{italian_date(date.fromisoformat(first['due_date']), 'il')}")
        lines.append("In quante rate vuole pagare?")
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[{"title": f"{o['count']} rate", "payload": '/inform{"installment_count": "%d"}' % o["count"]}
                     for o in choices["options"]],
        )
        return []


async def installments_summary(tracker: Tracker) -> str:
    choices = await installment_choices(tracker)
    count = int(tracker.get_slot("installment_count"))
    option = next(o for o in choices["options"] if o["count"] == count)
    return f"divido la bolletta in {count} rate:\n{schedule_text(option['installments'])}\n"


async def create_plan(tracker: Tracker) -> str:
    count = int(tracker.get_slot("installment_count"))
    key = new_idempotency_key(tracker.sender_id, tracker.get_slot("bill_id"), "plan", str(count))
    plan = await run_blocking(billing().create_plan, tracker.get_slot("bill_id"), customer_token(tracker), count, key)
    return (f"Fatto: il piano di rateizzazione è attivo, {len(plan['installments'])} rate per un totale di "
            f"{euros(plan['total_cents'])}, senza interessi né costi:\n{schedule_text(plan['installments'])}\n"
            "Riceverà i bollettini di ogni rata; può pagarli anche con PagoPA.")
