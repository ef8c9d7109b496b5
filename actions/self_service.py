"""The self-service requests of issue 12 as services of the customer form.

The customer form (actions/customer_form.py) verifies the customer, then asks for what the
service needs. A self-service request says here which slots it needs (they may depend on what
the backend answered), what to check once the customer is verified (`prepare`), how to
summarise it before a confirmation, and what to do at the end (`submit`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

Events = list[dict[str, Any]]


@dataclass(frozen=True)
class SelfService:
    slots: Callable[[Tracker], list[str]]
    submit: Callable[[CollectingDispatcher, Tracker], Awaitable[Events]]
    prepare: Callable[[CollectingDispatcher, Tracker], Awaitable[Events]] | None = None
    summary: Callable[[Tracker], Awaitable[str]] | None = None


def registry() -> dict[str, SelfService]:
    """Service name (the `service` slot's value) -> its parts. Imported late: the flow modules
    import actions.common, which the customer form imports too."""
    from actions import bill_copy, bill_explanation, complaints, direct_debit, paperless, payments, readings

    def mid_complaint(tracker: Tracker) -> bool:
        # The complaint's text may sound like another request ("letture stimate"): that
        # intent's from_intent mapping moves `service`, but the text is the complaint's answer.
        return tracker.get_slot("requested_slot") == "complaint_text" and bool(tracker.get_slot("complaint_category"))

    def keeping_the_complaint(service: SelfService) -> SelfService:
        def slots(tracker: Tracker) -> list[str]:
            return complaints.SERVICE.slots(tracker) if mid_complaint(tracker) else service.slots(tracker)

        return replace(service, slots=slots)

    return {
        "reading": keeping_the_complaint(readings.SERVICE),
        "payments": keeping_the_complaint(payments.SERVICE),
        "complaint": complaints.SERVICE,
        # items 4 and 6: a copy of a bill, "why is this bill so high?"
        "bill_copy": keeping_the_complaint(bill_copy.SERVICE),
        "explanation": keeping_the_complaint(bill_explanation.SERVICE),
        # items 3 and 5: SEPA direct debit (activation, revocation), paperless billing
        "direct_debit": keeping_the_complaint(direct_debit.ACTIVATION),
        "direct_debit_revoke": keeping_the_complaint(direct_debit.REVOCATION),
        "paperless": keeping_the_complaint(paperless.SERVICE),
    }


async def prepare(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Once the customer is verified: what the service checks before asking anything."""
    service = registry().get(tracker.get_slot("service") or "")
    if (
        service is None
        or service.prepare is None
        or not tracker.get_slot("customer_verified")
        or tracker.get_slot("flow_outcome")
    ):
        return []
    return await service.prepare(dispatcher, tracker)


# The answers whose words sound like the request itself ("il nuovo iban per la domiciliazione è
# IT60...", "mandatemi le bollette a mario@example.it"): the NLU reads the request's intent, its
# rule switches the service, and the answer would be lost. Slot asked -> (service, its check).
def _answer_checks() -> dict[str, tuple[str, Callable[..., Awaitable[dict[str, Any]]]]]:
    from actions import direct_debit, paperless

    return {
        "debit_holder": ("direct_debit", direct_debit.check_holder),
        "iban": ("direct_debit", direct_debit.check_iban),
        "paperless_email": ("paperless", paperless.check_email),
    }


async def keep_answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> Events | None:
    """The message answers the slot being asked for the same request: check it as the answer
    (the events to return), instead of switching; None when it is another request."""
    asked = tracker.get_slot("requested_slot")
    own = _answer_checks().get(asked or "")
    if own is None or tracker.get_slot("service") != own[0]:
        return None
    checked = await own[1](str(tracker.latest_message.get("text") or ""), dispatcher, tracker)
    return [{"event": "slot", "timestamp": None, "name": name, "value": value} for name, value in checked.items()]
