"""Issue 16, the conversation's context: two requests in one message, follow-ups on a bill,
corrections (docs/conversation-design.md, "Conversation context").

- `action_split_request`: a combined intent ("check_bills+find_store") is answered in full. It
  says both requests will be served and in which order (the one that needs no identification
  first, a person last), sets `service` for the account request (customer_form) and, for two
  account requests, keeps the second in `pending_request`. The rules of data/rules.yml run the
  actions in that order; `action_next_request` starts the pending one when the first ends.
- `action_follow_up_bill`: "e se pago il 20?", "e in 6 rate?", "entro quando?" after an account
  request: the same bill (`topic_bill`), the new parameter, through the customer form.
- `action_correct_value`: "scusi ho sbagliato, il codice è 100003", "il codice è un altro". The
  value corrected is the one the message names (entity or words), else the last one given; a
  new value replaces it (a verified identity is verified again), no value asks it again.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import IDENTITY_SLOTS, guarded, reset
from bot import clock
from bot.dates import parse_italian_date
from bot.folding import fold
from bot.formatters import CORRECTABLE_DATA
from bot.intents import REQUEST_PHRASES, parts
from bot.masking import mask_fiscal_code

# Account requests (customer_form) by intent: the `service` they set, the `topic` they leave.
ACCOUNT_SERVICES: dict[str, str] = {
    "check_bills": "bills",
    "request_deferral": "deferral",
    "request_installments": "installments",
    "ask_late_interest": "interest",
}
# The topic each request leaves the conversation in (domain.yml's `topic` slot).
TOPICS: dict[str, str] = {"find_store": "stores", "ask_bonus_sociale": "bonus", **ACCOUNT_SERVICES}
SERVED_LAST = "request_human"  # a person ends the conversation with the assistant


def serving_order(intent: str) -> list[str]:
    """The requests of a combined intent in the order they are served: those that need no
    identification first, then the account requests, a person last."""
    requests = parts(intent)

    def rank(name: str) -> int:
        return 2 if name == SERVED_LAST else 1 if name in ACCOUNT_SERVICES else 0

    return sorted(requests, key=rank)  # stable: the order of the name within a rank


class ActionSplitRequest(Action):
    def name(self) -> str:
        return "action_split_request"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        order = serving_order(intent)
        if len(order) < 2:
            return []
        dispatcher.utter_message(
            response="utter_two_requests", first=REQUEST_PHRASES[order[0]], second=REQUEST_PHRASES[order[1]]
        )
        accounts = [name for name in order if name in ACCOUNT_SERVICES]
        events: list[dict[str, Any]] = []
        if accounts:
            events.append(SlotSet("service", ACCOUNT_SERVICES[accounts[0]]))
        # the rules expect it set, or set to nothing, every time (it steers the dialogue)
        events.append(SlotSet("pending_request", accounts[1] if len(accounts) > 1 else None))
        topical = [name for name in order if name in TOPICS]
        if topical:
            events.append(SlotSet("topic", TOPICS[topical[-1]]))
        return events


class ActionNextRequest(Action):
    """The second of two account requests, once the first is done (identity kept)."""

    def name(self) -> str:
        return "action_next_request"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pending = tracker.get_slot("pending_request")
        events: list[dict[str, Any]] = [SlotSet("pending_request", None)]
        if pending not in ACCOUNT_SERVICES:
            return events
        dispatcher.utter_message(response="utter_next_request", request=REQUEST_PHRASES[pending])
        if pending == "ask_late_interest":
            dispatcher.utter_message(response="utter_late_interest_info")
        # the submit of the first request started this action; the form follows it
        return [
            *events,
            SlotSet("service", ACCOUNT_SERVICES[pending]),
            SlotSet("topic", TOPICS[pending]),
            FollowupAction("customer_form"),
        ]


class ActionFollowUpBill(Action):
    """A follow-up after an account request: the same bill, with what the message adds."""

    def name(self) -> str:
        return "action_follow_up_bill"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic = tracker.get_slot("topic") or "bills"
        text = str(tracker.latest_message.get("text") or "")[:500]
        count = next(tracker.get_latest_entity_values("installment_count"), None)
        events: list[dict[str, Any]] = []
        if topic == "installments" or count is not None:
            events += [SlotSet("service", "installments")]
            if count is not None:
                events.append(SlotSet("installment_count", str(count)))
        elif topic != "deferral" and parse_italian_date(text, clock.today()) is not None:
            # "e se pago il 20?": what paying on that day costs (late interest) on the same bill
            events += [SlotSet("service", "interest"), SlotSet("payment_date", text)]
        else:
            # "entro quando?" after a deferral: the form proposes the latest date allowed
            events.append(SlotSet("service", topic if topic in ACCOUNT_SERVICES.values() else "bills"))
        bill = tracker.get_slot("topic_bill")
        if bill:
            events.append(SlotSet("bill_id", bill))
        return events


# What a correction's words point at, checked in this order (folded text, linear patterns).
_POINTS_AT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fiscal_code", re.compile(r"\bfiscale\b|\bcf\b|\bc\.f\b")),
    ("supply_point", re.compile(r"\bpod\b|\bpdr\b")),
    ("customer_code", re.compile(r"\bcodice\b|\bcliente\b|\bnumero\b|\bcifr[ae]\b")),
    ("city", re.compile(r"\bcomune\b|\bcitta\b|\bpaese\b")),
    ("installment_count", re.compile(r"\brat[ae]\b")),
)
_ENTITY_SLOTS: dict[str, str] = {
    "customer_code": "customer_code",
    "fiscal_code": "fiscal_code",
    "pod": "supply_point",
    "pdr": "supply_point",
    "city": "city",
    "installment_count": "installment_count",
}
_DATE_SLOTS = ("new_due_date", "payment_date")


def corrected_slot(tracker: Tracker) -> str | None:
    """The datum a correction is about: named by an entity or by its words, else the last given."""
    for entity in tracker.latest_message.get("entities") or []:
        slot = _ENTITY_SLOTS.get(str(entity.get("entity")))
        if slot:
            return slot
        if entity.get("entity") == "date":
            return tracker.get_slot("requested_slot") if tracker.get_slot("requested_slot") in _DATE_SLOTS else None
    words = fold(str(tracker.latest_message.get("text") or "")[:300])
    for slot, pattern in _POINTS_AT:
        if pattern.search(words):
            if slot == "customer_code" and tracker.get_slot("identity_method") == "supply":
                return "supply_point"
            return slot
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") in CORRECTABLE_DATA and event.get("value") is not None:
            return str(event["name"])
    return None


def new_value(tracker: Tracker, slot: str) -> str | None:
    """The corrected value the message gives, if it gives one."""
    entity = {"supply_point": ("pod", "pdr")}.get(slot, (slot,))
    for name in entity:
        value = next(tracker.get_latest_entity_values(name), None)
        if value is not None:
            return str(value)
    if slot in _DATE_SLOTS:
        return next(tracker.get_latest_entity_values("date"), None)
    return None


IDENTITY_DATA = ("customer_code", "fiscal_code", "supply_point")


def value_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the customer's latest message."""
    last_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=-1)
    value = None
    for event in tracker.events[: max(last_user, 0)]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


def acknowledge_correction(
    dispatcher: CollectingDispatcher, tracker: Tracker, candidates: dict[str, Any]
) -> list[dict[str, Any]]:
    """A correction the form takes as it stands ("scusi, il codice è 100003" while the codice
    fiscale is asked: the new code is extracted and validated by the form): say what was
    corrected and, for a verified identity, that it is verified again (its slots cleared)."""
    after_user = tracker.events[max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=0) :]
    if any(e.get("event") == "action" and e.get("name") == "action_correct_value" for e in after_user):
        return []  # action_correct_value has said it already
    changed = [
        slot
        for slot, value in candidates.items()
        if slot in CORRECTABLE_DATA and value is not None and value_before_message(tracker, slot) not in (None, value)
    ]
    if not changed:
        return []
    slot = changed[0]
    value = str(candidates[slot])
    if slot != "supply_point":
        shown = mask_fiscal_code(value) if slot == "fiscal_code" else value
        dispatcher.utter_message(response="utter_correction_taken", what=CORRECTABLE_DATA[slot], value=shown)
    if slot in IDENTITY_DATA and tracker.get_slot("customer_verified"):
        dispatcher.utter_message(response="utter_correction_reverify")
        kept = {"identity_attempts", "identity_method", slot}
        return reset(name for name in IDENTITY_SLOTS if name not in kept)
    return []


class ActionCorrectValue(Action):
    def name(self) -> str:
        return "action_correct_value"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        in_form = (tracker.active_loop or {}).get("name") == "customer_form"
        slot = corrected_slot(tracker)
        if not in_form or slot is None:
            dispatcher.utter_message(response="utter_correction_without_value")
            return []
        what = CORRECTABLE_DATA[slot]
        value = new_value(tracker, slot)
        events: list[dict[str, Any]] = []
        if slot in IDENTITY_DATA and tracker.get_slot("customer_verified"):
            # the identity was verified with the old value: it is verified again with the new one
            dispatcher.utter_message(response="utter_correction_reverify")
            kept = {"identity_attempts", "identity_method"}
            events += reset(name for name in IDENTITY_SLOTS if name not in kept)
        if value is None:
            dispatcher.utter_message(response="utter_correction_ask_again", what=what)
            return [*events, SlotSet(slot, None), SlotSet("requested_slot", slot)]
        shown = mask_fiscal_code(value) if slot == "fiscal_code" else value
        if slot != "supply_point":  # a POD/PDR is personal data: confirmed without repeating it
            dispatcher.utter_message(response="utter_correction_taken", what=what, value=shown)
        return [*events, SlotSet(slot, value)]
