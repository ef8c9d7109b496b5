"""What the customer-flow actions share: the billing client, slot names, the offer of a person,
the apology when the backend is down, and `@guarded`.

The sentences are domain.yml responses; amounts, dates and lists come from bot/formatters.py.
"""

from __future__ import annotations

import abc
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.billing.client import BillingClient, BillingUnavailable
from bot.settings import get_settings

logger = logging.getLogger(__name__)

# Slots of one request (bill, choice, confirmation, outcome): cleared when the request ends.
FLOW_SLOTS = (
    "bill_id",
    "installment_count",
    "new_due_date",
    "payment_date",
    "confirmed",
    "flow_outcome",
    "flow_reason",
    # issue 12: self-reading, payments, complaint
    "meter_supply",
    "meter_reading",
    "reading_high",
    "reading_receipt",
    "payments_missing",
    "payment_claim",
    "payment_claim_date",
    "payment_claim_method",
    "complaint_category",
    "complaint_text",
    "history_bill",  # issue 12: the bill a copy or an explanation is about
    # issue 12: direct debit (the IBAN leaves the tracker's slots with the request), paperless
    "debit_holder",
    "iban",
    "direct_debit_current",
    "paperless_email",
    "paperless_current",
)
# Slots of the verified identity: kept for the conversation session only.
IDENTITY_SLOTS = (
    "customer_code",
    "fiscal_code",
    "customer_verified",
    "customer_token",
    "customer_name",
    "identity_attempts",
    "phone_lookup_done",
    # issue 13: identification with the codice fiscale and the POD/PDR; the way-out counter
    "identity_method",
    "supply_point",
    "unproductive_answers",
    "way_out_offered",
)


@functools.lru_cache(maxsize=1)
def billing() -> BillingClient:
    """The action server's one billing client (a pooled HTTP session)."""
    return BillingClient.from_settings()


def reset(slots) -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in slots]


def customer_token(tracker: Tracker) -> str | None:
    return tracker.get_slot("customer_token")


def offer_human(
    dispatcher: CollectingDispatcher, response: str, code: str = "not_eligible", **variables: Any
) -> list[dict[str, Any]]:
    """Explain, then offer a person (a plain "sì" accepts: handoff_offered). `response` is
    utter_offer_human with the backend's {reason}, or one of the utter_refusal_* sentences."""
    dispatcher.utter_message(response=response, **variables)
    return [SlotSet("handoff_offered", True), SlotSet("handoff_reason", code)]


def offer_way_out(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    """Issue 13, no dead ends: after two answers that did not answer the form's question, the
    ways out (another way to identify, a person, stopping) instead of the question a third time.
    Slot values for a validate_<slot> method; the counter starts again."""
    dispatcher.utter_message(response=response)
    return {"unproductive_answers": 0, "way_out_offered": True}


def apologise_backend_down(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    settings = get_settings()
    dispatcher.utter_message(
        response="utter_backend_down",
        call_centre_number=settings.call_centre_number,
        call_centre_hours=settings.call_centre_hours,
    )
    return []


RunMethod = Callable[[Any, CollectingDispatcher, Tracker, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


def guarded(run: RunMethod) -> RunMethod:
    """An action never fails towards Rasa: a failing action would make rasa-sdk echo the whole
    request, slots included, into the Rasa server's log, and leave the customer in silence."""

    @functools.wraps(run)
    async def wrapper(
        self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            return await run(self, dispatcher, tracker, domain)
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        except Exception as error:  # noqa: BLE001 - the point is to catch everything
            logger.error("action %s failed: %s", self.name(), type(error).__name__)
            return apologise_backend_down(dispatcher)

    return wrapper


class AskWithResponse(Action, metaclass=abc.ABCMeta):
    """A form's question that is one response of domain.yml under another name than Rasa's
    `utter_ask_<slot>`. Abstract: rasa-sdk registers only the subclasses, which name both. A
    kind of question that is not always asked overrides `ask`."""

    @property
    @abc.abstractmethod
    def action_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def response(self) -> str: ...

    def name(self) -> str:
        return self.action_name

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """Says the question; the events to return."""
        dispatcher.utter_message(response=self.response)
        return []

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return self.ask(dispatcher, tracker)
