"""SEPA direct debit (domiciliazione bancaria): activate it (or move it to another IBAN), revoke it.

Activation asks who holds the account, then the IBAN, then confirms. The mandate is signed by
the account holder: when the holder is someone else, the bot explains that the holder must
activate it (from their bank, with the customer's code), and asks again in case the account is
also the customer's. The IBAN is checked (bot/customer_data.py) before anything is sent, and
shown only masked (IT** **** … 1234). The mandate is created with an Idempotency-Key made of
the conversation, the IBAN and the holder: a repeated confirmation creates one mandate.

The IBAN stays in the slot `iban` until the request ends (FLOW_SLOTS clears it): the tracker
keeps it as it keeps the customer's message; every page and export of the console shows texts
masked (bot/masking.py), and no page shows slots.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import AskWithResponse, billing, customer_token
from actions.self_service import Events, SelfService
from bot import formatters
from bot.billing.client import BillingError, new_idempotency_key, run_blocking
from bot.customer_data import ITALIAN_IBAN_LENGTH, MAX_TEXT, holder_name, iban_check, same_person
from bot.folding import fold
from bot.masking import mask_iban

_WORD = re.compile(r"[a-z]{1,20}")
# "sono io", "a me", "è mio", "cointestato": the customer holds the account
SELF_PHRASES = ("sono io", "a me", "e mio", "il mio", "mio conto", "conto mio", "io stess", "cointestat")
SELF_WORDS = {"io", "me", "mio", "mia", "si", "certo", "esatto", "affirm"}


def _current(tracker: Tracker) -> dict[str, Any] | None:
    """The active mandate looked up when the request started (masked IBAN, reference)."""
    text = tracker.get_slot("direct_debit_current")
    found = json.loads(text) if text else None
    return found if isinstance(found, dict) else None


async def _lookup(tracker: Tracker) -> Events:
    mandate = await run_blocking(billing().direct_debit, tracker.get_slot("customer_code"), customer_token(tracker))
    shown = {"iban": mandate["iban_masked"], "reference": mandate["reference"]} if mandate else "none"
    return [SlotSet("direct_debit_current", json.dumps(shown))]


# --------------------------------------------------------------------------- activation
def activation_slots(tracker: Tracker) -> list[str]:
    return ["debit_holder", "iban", "confirmed"]


async def prepare_activation(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """An active mandate is said once: a new IBAN will replace it."""
    if tracker.get_slot("direct_debit_current"):
        return []
    events = await _lookup(tracker)
    tracker.add_slots(events)
    current = _current(tracker)
    if current:
        dispatcher.utter_message(
            response="utter_direct_debit_current", iban=current.get("iban"), reference=current.get("reference")
        )
    return events


def is_self(text: str, intent: str | None) -> bool:
    plain = " ".join(_WORD.findall(fold(text[:MAX_TEXT])))
    words = plain.split()
    short_yes = 0 < len(words) <= 2 and set(words) <= SELF_WORDS
    return intent == "affirm" or short_yes or any(p in plain for p in SELF_PHRASES)


async def check_holder(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    text = str(value or "")
    customer = tracker.get_slot("customer_name") or ""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if is_self(text, intent) and customer:
        return {"debit_holder": customer}
    name = holder_name(text)
    if name is None:
        dispatcher.utter_message(response="utter_debit_holder_not_understood")
        return {"debit_holder": None}
    if customer and same_person(name, customer):
        return {"debit_holder": customer}
    dispatcher.utter_message(response="utter_debit_holder_not_customer", holder=name.title())
    return {"debit_holder": None}


async def check_iban(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    check = iban_check(str(value or ""))
    if check.iban is not None:
        return {"iban": check.iban}
    if check.problem == "not_sepa":
        dispatcher.utter_message(response="utter_iban_not_sepa")
    elif check.problem == "invalid" and check.length != ITALIAN_IBAN_LENGTH:
        dispatcher.utter_message(response="utter_iban_wrong_length", length=check.length)
    elif check.problem == "invalid":
        dispatcher.utter_message(response="utter_iban_invalid")
    else:
        dispatcher.utter_message(response="utter_iban_not_found")
    return {"iban": None}


class DirectDebitValidation:
    async def validate_debit_holder(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return await check_holder(value, dispatcher, tracker)

    async def validate_iban(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return await check_iban(value, dispatcher, tracker)


class ActionAskDebitHolder(AskWithResponse):
    action_name = "action_ask_debit_holder"
    response = "utter_debit_holder_please"


class ActionAskIban(AskWithResponse):
    action_name = "action_ask_iban"
    response = "utter_iban_please"


async def activation_summary(tracker: Tracker) -> str:
    current = _current(tracker)
    return formatters.direct_debit_summary(
        mask_iban(tracker.get_slot("iban") or ""),
        tracker.get_slot("debit_holder") or "",
        str(current["iban"]) if current else None,
    )


def _open_bills(mandate: dict[str, Any]) -> str:
    """The open bills the mandate does not cover, as the note lists them ("" when none)."""
    return ", ".join(mandate["open_bills"])


async def activate(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    iban, holder = tracker.get_slot("iban"), tracker.get_slot("debit_holder")
    digest = hashlib.sha256(f"{iban}|{holder}".encode()).hexdigest()[:16]
    key = new_idempotency_key(tracker.sender_id, "direct_debit", digest)
    mandate = await run_blocking(
        billing().create_mandate, tracker.get_slot("customer_code"), customer_token(tracker), iban, holder, key
    )
    current = _current(tracker)
    if current and current["reference"] == mandate["reference"]:
        dispatcher.utter_message(response="utter_direct_debit_unchanged", iban=mandate["iban_masked"])
        return []
    dispatcher.utter_message(
        response="utter_direct_debit_activated",
        iban=mandate["iban_masked"],
        holder=mandate["holder_name"],
        reference=mandate["reference"],
        active_from=formatters.italian_date(date.fromisoformat(mandate["active_from"]), "dal"),
        first_bill=formatters.italian_date(date.fromisoformat(mandate["first_debited_bill_on"]), "al"),
    )
    if bills := _open_bills(mandate):
        dispatcher.utter_message(response="utter_direct_debit_open_bills", bills=bills)
    return []


ACTIVATION = SelfService(
    slots=activation_slots, submit=activate, prepare=prepare_activation, summary=activation_summary
)


# --------------------------------------------------------------------------- revocation
def revocation_slots(tracker: Tracker) -> list[str]:
    return ["confirmed"]


async def prepare_revocation(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """No active mandate: say so (and how to activate one), end there."""
    if tracker.get_slot("direct_debit_current"):
        return []
    events = await _lookup(tracker)
    tracker.add_slots(events)
    if _current(tracker) is None:
        dispatcher.utter_message(response="utter_no_direct_debit")
        events.append(SlotSet("flow_outcome", "answered"))
    return events


async def revocation_summary(tracker: Tracker) -> str:
    current = _current(tracker) or {"iban": "", "reference": ""}
    return formatters.revocation_summary(current["iban"], current["reference"])


async def revoke(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    current = _current(tracker) or {"reference": ""}
    key = new_idempotency_key(tracker.sender_id, "direct_debit_revoke", current["reference"])
    try:
        mandate = await run_blocking(
            billing().revoke_mandate, tracker.get_slot("customer_code"), customer_token(tracker), key
        )
    except BillingError as error:
        if error.code != "no_mandate":
            raise
        dispatcher.utter_message(response="utter_no_direct_debit")
        return []
    dispatcher.utter_message(
        response="utter_direct_debit_revoked",
        iban=mandate["iban_masked"],
        reference=mandate["reference"],
        not_debited_from=formatters.italian_date(date.fromisoformat(mandate["not_debited_from"]), "dal"),
        next_bill=formatters.italian_date(date.fromisoformat(mandate["next_bill_after_revocation_on"]), "al"),
    )
    if bills := _open_bills(mandate):
        dispatcher.utter_message(response="utter_direct_debit_revoked_open_bills", bills=bills)
    return []


REVOCATION = SelfService(slots=revocation_slots, submit=revoke, prepare=prepare_revocation, summary=revocation_summary)
