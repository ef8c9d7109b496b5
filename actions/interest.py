"""Late-payment interest: a quote for the day the customer means to pay."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, euros, italian_date
from bot import clock
from bot.billing.client import run_blocking
from bot.dates import parse_italian_date


class InterestValidation:
    async def validate_payment_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        paid_on = parse_italian_date(str(value or ""), clock.today())
        if paid_on is None:
            dispatcher.utter_message(text="Non ho capito la data. Può scriverla per esempio come «15 dicembre» o «15/12»?")
            return {"payment_date": None}
        return {"payment_date": paid_on.isoformat()}


async def quote_interest(tracker: Tracker) -> str:
    paid_on = date.fromisoformat(tracker.get_slot("payment_date"))
    quote = await run_blocking(billing().late_interest, tracker.get_slot("bill_id"), customer_token(tracker), paid_on)
    due = italian_date(date.fromisoformat(quote["due_date"]))
    due_on = italian_date(date.fromisoformat(quote["due_date"]), "il")
    if quote["days_late"] == 0:
        return f"La bolletta scade {due_on}: pagando {italian_date(paid_on, 'il')} non paga interessi di mora."
    return (f"Pagando {italian_date(paid_on, 'il')} la bolletta di {euros(quote['amount_cents'])} (scadenza {due}) sarebbe "
            f"in ritardo di {quote['days_late']} giorni: gli interessi di mora sarebbero {euros(quote['interest_cents'])}, "
            f"addebitati in una bolletta successiva. {quote['rule']}")
