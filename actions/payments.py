"""Payments: how to pay (no identification), and "I already paid" / "I got a reminder".

"I already paid": the payments registered for the customer's bills, with date and method. A
bill still without one: how long each method takes to reach us, the pagoPA data to pay it, and,
if the customer says they paid, their date and method go to a person (the existing handoff).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import billing, customer_token, guarded
from actions.self_service import Events, SelfService
from bot import clock, formatters
from bot.billing.client import BillingError, run_blocking
from bot.dates import parse_italian_date
from bot.folding import fold
from bot.rules import engine as rules

METHOD_WORDS = (
    ("bonifico", ("bonifico", "homebanking")),
    ("bollettino", ("bollettino", "posta", "poste")),
    ("pagopa", ("pagopa", "pago", "tabacch", "ricevitoria", "sisal", "lottomatica", "mooney", "cbill")),
    ("carta", ("carta", "paypal", "online", "app", "satispay")),
    ("sportello", ("sportello", "bancomat", "contanti")),
    ("domiciliazione", ("domiciliazione", "addebito", "rid", "sdd")),
)
MAX_TEXT = 300


def payment_method_in(text: str) -> str | None:
    plain = fold(text[:MAX_TEXT])
    for method, words in METHOD_WORDS:
        if any(re.search(rf"\b{re.escape(word)}", plain) for word in words):
            return method
    return None


def payment_date_in(text: str, today: date) -> date | None:
    """A past payment date: "il 20 novembre" written in December is this year's, not next year's."""
    found = parse_italian_date(text[:MAX_TEXT], today)
    if found is not None and found > today:
        found = found.replace(year=found.year - 1) if not (found.month == 2 and found.day == 29) else None
    return found


class ActionPaymentMethods(Action):
    """Every method the utility offers, and where (bot/rules/policy.yml): no identification."""

    def name(self) -> str:
        return "action_payment_methods"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(
            response="utter_payment_methods", methods=formatters.payment_methods(rules.payment_methods())
        )
        return []


async def account(tracker: Tracker) -> dict[str, Any]:
    return await run_blocking(billing().payments, tracker.get_slot("customer_code"), customer_token(tracker))


def payment_slots(tracker: Tracker) -> list[str]:
    return ["payment_claim"] if tracker.get_slot("payments_missing") else []


async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    if tracker.get_slot("payments_missing") is not None:
        return []
    found = await account(tracker)
    return [SlotSet("payments_missing", bool(found["open_bills"]))]


async def notices(tracker: Tracker, bills: list[dict[str, Any]]) -> list[str]:
    lines = []
    for bill in bills:
        try:
            notice = await run_blocking(billing().payment_notice, bill["bill_id"], customer_token(tracker))
        except BillingError:
            continue  # no notice for this bill: the methods above still apply
        lines.append(formatters.payment_notice(notice))
    return lines


class ActionAskPaymentClaim(Action):
    """What is registered, what is not yet and why that is usual, and how to pay it; then:
    "if you paid, when and how?"."""

    def name(self) -> str:
        return "action_ask_payment_claim"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        found = await account(tracker)
        if found["payments"]:
            dispatcher.utter_message(
                response="utter_payments_registered", payments=formatters.payments(found["payments"][:3])
            )
        days = found["registration_days"]
        dispatcher.utter_message(
            response="utter_payment_not_registered_yet",
            bills=formatters.bullets(formatters.bill_label({**b, "id": b["bill_id"]}) for b in found["open_bills"]),
            transfer_days=days.get("bonifico", 3),
            slip_days=days.get("bollettino", 7),
        )
        lines = await notices(tracker, found["open_bills"])
        if lines:
            dispatcher.utter_message(response="utter_payment_notice", notices=formatters.bullets(lines))
        dispatcher.utter_message(response="utter_payment_claim_please")
        return []


class PaymentValidation:
    async def validate_payment_claim(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "")
        when = payment_date_in(text, clock.today()) or (
            date.fromisoformat(tracker.get_slot("payment_claim_date"))
            if tracker.get_slot("payment_claim_date")
            else None
        )
        method = payment_method_in(text) or tracker.get_slot("payment_claim_method")
        slots: dict[str, Any] = {
            "payment_claim_date": when.isoformat() if when else None,
            "payment_claim_method": method,
        }
        if when is None or method is None:
            dispatcher.utter_message(
                response="utter_payment_claim_method_please" if when else "utter_payment_claim_date_please"
            )
            return {**slots, "payment_claim": None}
        return {**slots, "payment_claim": f"{when.isoformat()} {method}"}


async def submit(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    claim = tracker.get_slot("payment_claim")
    if claim:
        when, method = claim.split(" ", 1)
        dispatcher.utter_message(
            response="utter_payment_claim_handoff",
            paid_on=formatters.italian_date(date.fromisoformat(when), "il"),
            method=formatters.PAYMENT_METHOD_NAMES.get(method, method),
        )
        return [SlotSet("handoff_reason", "payment_not_registered"), FollowupAction("action_request_human")]
    found = await account(tracker)
    if found["payments"]:
        dispatcher.utter_message(
            response="utter_payments_registered", payments=formatters.payments(found["payments"][:3])
        )
    dispatcher.utter_message(response="utter_all_payments_registered")
    return []


SERVICE = SelfService(slots=payment_slots, submit=submit, prepare=prepare)
