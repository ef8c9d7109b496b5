"""Late-payment interest: a quote for the day the customer means to pay."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token
from bot import clock
from bot.billing.client import run_blocking
from bot.dates import parse_italian_date
from bot.formatters import days, euros, italian_date


class InterestValidation:
    async def validate_payment_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        paid_on = parse_italian_date(str(value or ""), clock.today())
        if paid_on is None:
            dispatcher.utter_message(response="utter_payment_date_not_understood")
            return {"payment_date": None}
        return {"payment_date": paid_on.isoformat()}


async def quote_interest(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    paid_on = date.fromisoformat(tracker.get_slot("payment_date"))
    quote = await run_blocking(billing().late_interest, tracker.get_slot("bill_id"), customer_token(tracker), paid_on)
    due = date.fromisoformat(quote["due_date"])
    if quote["days_late"] == 0:
        dispatcher.utter_message(
            response="utter_no_late_interest", due_on=italian_date(due, "il"), paid_on=italian_date(paid_on, "il")
        )
        return
    dispatcher.utter_message(
        response="utter_late_interest_quote",
        paid_on=italian_date(paid_on, "il"),
        amount=euros(quote["amount_cents"]),
        due=italian_date(due),
        late=days(quote["days_late"]),
        interest=euros(quote["interest_cents"]),
        rule=quote["rule"],
    )
