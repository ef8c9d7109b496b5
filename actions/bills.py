"""Bills: which bill the customer means, and the status of their bills."""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded
from bot.billing.client import run_blocking
from bot.dates import parse_number
from bot.folding import fold
from bot.formatters import bill_button

ORDINALS = {"prima": 1, "primo": 1, "seconda": 2, "secondo": 2, "terza": 3, "terzo": 3, "ultima": -1, "ultimo": -1}


def match_bill(text: str, bills: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The bill a customer points at: by id, position, supply (luce/gas) or amount."""
    plain = fold(text)
    for bill in bills:
        if bill["id"].lower() in plain:
            return bill
    for word, position in ORDINALS.items():
        if re.search(rf"\b{word}\b", plain) and abs(position) <= len(bills):
            return bills[position - 1] if position > 0 else bills[-1]
    by_supply = [b for b in bills if re.search(rf"\b{b['supply']}\b", plain)]
    if not by_supply and re.search(r"\b(corrente|elettric\w*|energia)\b", plain):
        by_supply = [b for b in bills if b["supply"] == "luce"]
    if not by_supply and re.search(r"\bmetano\b", plain):
        by_supply = [b for b in bills if b["supply"] == "gas"]
    if len(by_supply) == 1:
        return by_supply[0]
    amount = re.search(r"(\d+)(?:[.,](\d{1,2}))?", plain)
    if amount:
        cents = int(amount.group(1)) * 100 + int((amount.group(2) or "0").ljust(2, "0"))
        close = [b for b in bills if abs(b["amount_cents"] - cents) < 100]
        if len(close) == 1:
            return close[0]
    number = parse_number(plain)
    if number is not None and 1 <= number <= len(bills) and len(plain.split()) <= 3:
        return bills[number - 1]
    return None


async def open_bills(tracker: Tracker) -> list[dict[str, Any]]:
    """The verified customer's open bills (raises BillingError)."""
    return await run_blocking(billing().bills, tracker.get_slot("customer_code"), customer_token(tracker), "open")


class ActionAskBillId(Action):
    """Several open bills: ask which one, with a button each."""

    def name(self) -> str:
        return "action_ask_bill_id"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        bills = await open_bills(tracker)
        dispatcher.utter_message(
            response="utter_which_bill",
            buttons=[{"title": bill_button(b), "payload": "/inform" + json.dumps({"bill_id": b["id"]})} for b in bills],
        )
        return []
