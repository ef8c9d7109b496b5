"""Bills: which bill the customer means (an open one, or any for a copy or an explanation), and
the status of their bills."""

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
from bot.formatters import MONTHS, bill_button

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


# --------------------------------------------------------------------------- issue 12: any bill, paid ones too
_YEAR = re.compile(r"\b(20\d\d)\b")
_EARLIER = re.compile(r"\b(precedente|penultima|scorsa|scorso|prima di questa)\b")
MAX_TEXT = 300
# Month names and their usual abbreviations; not those that are other words too ("giu", "set",
# "mar", "otto", "nove", "dice", "apri").
MONTH_WORDS = {name: number for number, name in enumerate(MONTHS, start=1)} | {
    "gen": 1, "genn": 1, "feb": 2, "febb": 2, "marz": 3, "apr": 4, "mag": 5, "magg": 5, "giug": 6,
    "lug": 7, "lugl": 7, "ago": 8, "sett": 9, "ott": 10, "nov": 11, "dic": 12,
}  # fmt: skip


async def all_bills(tracker: Tracker) -> list[dict[str, Any]]:
    """The verified customer's bills, paid ones too, newest first (raises BillingError)."""
    found = await run_blocking(billing().bills, tracker.get_slot("customer_code"), customer_token(tracker), "all")
    return sorted(found, key=lambda b: (b["issue_date"], b["id"]), reverse=True)


def month_in(plain: str) -> int | None:
    """The month a folded text names ("settembre", "sett", "dic"), if exactly one."""
    named = {month for word, month in MONTH_WORDS.items() if re.search(rf"\b{word}(?!\w)", plain)}
    return named.pop() if len(named) == 1 else None


def bills_named(text: str, bills: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The bills (newest first) a customer's words point at: by id, month (the month it was
    issued or its period ended), year, supply, "l'ultima" / "la precedente". None when the
    words name no bill at all (the caller takes the latest)."""
    plain = fold(text[:MAX_TEXT])
    by_id = [b for b in bills if b["id"].lower() in plain]
    if by_id:
        return by_id
    pool, named = bills, False
    for supply, words in (("luce", r"luce|corrente|elettric\w*"), ("gas", r"gas|metano")):
        if re.search(rf"\b({words})\b", plain):
            pool, named = [b for b in pool if b["supply"] == supply], True
    month, year = month_in(plain), _YEAR.search(plain)
    if month is not None:

        def months(bill: dict[str, Any]) -> set[int]:
            return {int(str(bill.get(field) or bill["issue_date"])[5:7]) for field in ("issue_date", "period_end")}

        pool, named = [b for b in pool if month in months(b)], True
    if year is not None:
        pool, named = [b for b in pool if b["issue_date"].startswith(year.group(1))], True
    if _EARLIER.search(plain):
        return pool[1:2]
    if re.search(r"\bultim[ao]\b", plain) or (named and month is None and year is None):
        return pool[:1]
    return pool if named else None


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
