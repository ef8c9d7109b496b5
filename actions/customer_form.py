"""The customer form: one form for the requests that need a verified customer.

`service` (set from the intent: check_bills, request_deferral, request_installments,
ask_late_interest) decides which slots the form asks for after identity. Outcomes that end a
request early (identity failed, not eligible, backend down, no open bills) are recorded in
`flow_outcome`; the form then has nothing left to ask and `action_submit_customer_form`
explains and, where it cannot help, offers a human. Changing one's mind mid-form is
`action_switch_service`; "no" / "annulla" is `action_cancel_flow`.

Over 300 lines: the one form's slot order, validation and hand-offs between services; the
per-service validation lives in its capability's module.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import context, self_service  # issue 12: readings, payments, complaints; 16: corrections
from actions.bill_copy import HistoryBillValidation
from actions.bills import match_bill, open_bills
from actions.common import (
    FLOW_SLOTS,
    IDENTITY_SLOTS,
    apologise_backend_down,
    billing,
    customer_token,
    guarded,
    offer_human,
    reset,
)
from actions.complaints import ComplaintValidation
from actions.deferral import DeferralValidation, create_deferral, deferral_summary
from actions.direct_debit import DirectDebitValidation
from actions.identity import IdentityValidation
from actions.installments import InstallmentsValidation, create_plan, installments_summary
from actions.interest import InterestValidation, quote_interest
from actions.paperless import PaperlessValidation
from actions.payments import PaymentValidation
from actions.readings import ReadingValidation
from bot import formatters
from bot.billing.client import BillingError, BillingUnavailable, run_blocking

SERVICE_SLOTS: dict[str, list[str]] = {
    "bills": [],
    "deferral": ["bill_id", "new_due_date", "confirmed"],
    "installments": ["bill_id", "installment_count", "confirmed"],
    "interest": ["bill_id", "payment_date"],
}

# The backend answers with codes (its messages are English, for developers): the customer reads
# the domain.yml response of the code. A code not listed gets the general sentence.
REFUSAL_RESPONSES: dict[str, str] = {
    "date_out_of_range": "utter_refusal_date_out_of_range",
    "not_eligible": "utter_refusal_not_eligible",
    "count_not_offered": "utter_refusal_count_not_offered",
    "bill_not_found": "utter_refusal_bill_not_found",
    "forbidden": "utter_refusal_bill_not_found",
    "conflict": "utter_refusal_conflict",
}


def refusal_response(error: BillingError) -> str:
    """The response that explains a backend refusal in Italian; never the backend's own message."""
    return REFUSAL_RESPONSES.get(error.code, "utter_refusal_other")


def identity_slots(tracker: Tracker) -> list[str]:
    """What identifies the customer: the codice cliente and the codice fiscale, or (issue 13, no
    codice cliente at hand) the POD/PDR of one of their supplies and the codice fiscale."""
    if tracker.get_slot("identity_method") == "supply":
        return ["supply_point", "fiscal_code"]
    return ["customer_code", "fiscal_code"]


class ValidateCustomerForm(
    IdentityValidation,
    DeferralValidation,
    InstallmentsValidation,
    InterestValidation,
    ReadingValidation,
    PaymentValidation,
    ComplaintValidation,
    HistoryBillValidation,
    DirectDebitValidation,
    PaperlessValidation,
    FormValidationAction,
):
    def name(self) -> str:
        return "validate_customer_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("flow_outcome"):
            return []
        slots = [] if tracker.get_slot("customer_verified") else identity_slots(tracker)
        service = tracker.get_slot("service") or "bills"
        own = self_service.registry().get(service)
        return slots + (own.slots(tracker) if own else SERVICE_SLOTS.get(service, []))

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # Issue 16: a value a correction cleared ("il codice è un altro") is asked again, not
        # judged as an empty answer (actions/context.py).
        if (tracker.latest_message.get("intent") or {}).get("name") != "correct_value":
            return await super().get_validation_events(dispatcher, tracker, domain)
        reverify = context.acknowledge_correction(dispatcher, tracker, tracker.slots_to_validate())
        cleared = [name for name, value in tracker.slots_to_validate().items() if value is None]
        if not cleared:
            return [*await super().get_validation_events(dispatcher, tracker, domain), *reverify]
        start = len(tracker.events)
        while start and tracker.events[start - 1].get("event") == "slot":
            start -= 1  # the candidates are the trailing slot events (rasa_sdk's slots_to_validate)
        candidates = [e for e in tracker.events[start:] if e.get("name") not in cleared]
        tracker.events = [*tracker.events[:start], *candidates]
        events = await super().get_validation_events(dispatcher, tracker, domain)
        return [*events, *(SlotSet(name, None) for name in cleared), *reverify]

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        # Assigned before anything can fail: an unreachable backend in the prefill or in a
        # validate_* method must still end the request as backend_down (and hand over).
        events: list[dict[str, Any]] = []
        try:
            prefill = await self._identity_from_customer_area(dispatcher, tracker)
            if not prefill:
                prefill = await self._prefill_from_whatsapp(dispatcher, tracker)
            tracker.add_slots(prefill)
            events = list(prefill)
            events += await super().run(dispatcher, tracker, domain)
            # super().run has applied its slots to `tracker`: check the bill with them.
            changed = any(e.get("event") == "slot" and e.get("name") == "bill_id" for e in events)
            extra = await self._check_bill(dispatcher, tracker, changed)
            extra = extra or await self_service.prepare(dispatcher, tracker)
        except BillingUnavailable:
            extra = [SlotSet("flow_outcome", "backend_down")]
        if not extra:
            return events
        # The check decided something (bill picked, or the request ends): ask anew.
        events = [e for e in events if not (e.get("event") == "slot" and e.get("name") == "requested_slot")]
        tracker.add_slots(extra)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + extra + ([next_slot] if next_slot else [])

    async def _identity_from_customer_area(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """On the website, a customer logged in to the customer area is already identified: the
        page's signed token, checked by the backend, stands for codice cliente and fiscale.
        Only the socket.io channel's metadata is read: that channel drops what the client writes
        and adds the token only from the connection it verified (bot/channels/socketio.py);
        other channels pass client-written metadata through."""
        if tracker.get_latest_input_channel() != "socketio" or tracker.get_slot("customer_verified"):
            return []
        token = (tracker.latest_message.get("metadata") or {}).get("customer_area_token")
        if not token or not isinstance(token, str):
            return []
        try:
            verified = await run_blocking(billing().verify_customer_area, token)
        except BillingUnavailable:
            raise  # handled by run(): the backend is down
        except BillingError:
            return []  # not valid: ask for the codes as usual
        dispatcher.utter_message(response="utter_recognised_from_customer_area", first_name=verified["name"].split()[0])
        return [
            SlotSet("customer_code", verified["customer_code"]),
            SlotSet("fiscal_code", "area-clienti"),  # a marker, never shown: the login stands for it
            SlotSet("customer_verified", True),
            SlotSet("customer_token", verified["customer_token"]),
            SlotSet("customer_name", verified["name"]),
        ]

    async def _prefill_from_whatsapp(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """On WhatsApp the sender's number hints at the customer code (never at the identity:
        the codice fiscale is still asked). The number comes only from the metadata the WhatsApp
        channel writes server-side ({"whatsapp": {"wa_id"}}): the conversation id is an opaque
        HMAC, and the REST and socket.io channels drop client metadata. Never logged."""
        if (
            tracker.get_latest_input_channel() != "whatsapp"
            or tracker.get_slot("customer_verified")
            or tracker.get_slot("customer_code")
            or tracker.get_slot("phone_lookup_done")
        ):
            return []
        channel_data = (tracker.latest_message.get("metadata") or {}).get("whatsapp")
        number = channel_data.get("wa_id") if isinstance(channel_data, dict) else None
        if not isinstance(number, str) or not number.isdecimal() or not number.isascii() or len(number) > 20:
            return []  # no number this channel vouches for: ask for the code as usual
        code = await run_blocking(billing().customer_by_phone, "+" + number)
        if code is None:
            return [SlotSet("phone_lookup_done", True)]
        dispatcher.utter_message(response="utter_phone_matches_customer_code", customer_code=code)
        return [SlotSet("phone_lookup_done", True), SlotSet("customer_code", code)]

    async def _check_bill(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: bool
    ) -> list[dict[str, Any]]:
        """Once identified: pick the bill when there is only one; check the service applies to it."""
        service = tracker.get_slot("service") or "bills"
        bill_id = tracker.get_slot("bill_id")
        if (
            not tracker.get_slot("customer_verified")
            or tracker.get_slot("flow_outcome")
            or "bill_id" not in SERVICE_SLOTS.get(service, [])
            or (bill_id and not changed)
        ):
            return []
        events: list[dict[str, Any]] = []
        if bill_id is None:
            bills = await open_bills(tracker)
            if not bills:
                return [SlotSet("flow_outcome", "no_open_bills")]
            if len(bills) > 1:
                return []
            bill_id = bills[0]["id"]
            dispatcher.utter_message(response="utter_one_open_bill", bill=formatters.bill_label(bills[0]))
            events.append(SlotSet("bill_id", bill_id))
        token = customer_token(tracker)
        if service == "deferral":
            check = await run_blocking(billing().deferral_options, bill_id, token)
        elif service == "installments":
            check = await run_blocking(billing().installment_options, bill_id, token)
        else:
            return events
        if not check["eligible"]:
            events += [SlotSet("flow_outcome", "not_eligible"), SlotSet("flow_reason", check["reason"]["message"])]
        return events

    async def validate_bill_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        bills = await open_bills(tracker)
        bill = match_bill(str(value or ""), bills)
        if bill is None:
            dispatcher.utter_message(response="utter_bill_not_understood")
            return {"bill_id": None}
        return {"bill_id": bill["id"]}

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is False:
            return {"confirmed": None, "flow_outcome": "cancelled"}
        return {"confirmed": True}


class ActionAskConfirmed(Action):
    """The explicit confirmation before anything is created."""

    def name(self) -> str:
        return "action_ask_confirmed"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        own = self_service.registry().get(tracker.get_slot("service") or "")
        if own is not None and own.summary is not None:
            summary = await own.summary(tracker)
        elif tracker.get_slot("service") == "deferral":
            summary = deferral_summary(tracker)
        else:
            summary = await installments_summary(tracker)
        dispatcher.utter_message(response="utter_confirm_summary", summary=summary)
        return []


class ActionAskPaymentDate(Action):
    def name(self) -> str:
        return "action_ask_payment_date"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_payment_date_please")
        return []


class ActionSubmitCustomerForm(Action):
    """Do what was asked, or explain why not; then clear the request, keep the identity."""

    def name(self) -> str:
        return "action_submit_customer_form"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = await self._outcome(dispatcher, tracker)
        # Issue 16: the bill stays the topic's ("e se pago il 20?"); a request that ended early
        # (identity failed, backend down...) drops a second request of the same message.
        kept = [SlotSet("topic_bill", tracker.get_slot("bill_id"))] if tracker.get_slot("bill_id") else []
        if tracker.get_slot("flow_outcome") not in (None, "answered", "no_open_bills"):
            kept.append(SlotSet("pending_request", None))
        elif tracker.get_slot("pending_request"):
            kept.append(FollowupAction("action_next_request"))  # the second request of the message
        return events + reset(FLOW_SLOTS) + kept

    async def _outcome(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        outcome: str | None = tracker.get_slot("flow_outcome")
        service = tracker.get_slot("service") or "bills"
        if outcome == "identity_failed":
            dispatcher.utter_message(response="utter_identity_failed")
            return [
                *reset(IDENTITY_SLOTS),
                SlotSet("handoff_reason", "identity_failed"),
                FollowupAction("action_request_human"),
            ]
        if outcome == "backend_down":
            return [
                *apologise_backend_down(dispatcher),
                SlotSet("handoff_reason", "backend_down"),
                FollowupAction("action_request_human"),
            ]
        if outcome == "not_eligible":
            reason = tracker.get_slot("flow_reason")  # the backend's Italian reason
            if not reason:
                return offer_human(dispatcher, "utter_refusal_not_online")
            return offer_human(dispatcher, "utter_offer_human", reason=reason)
        if outcome == "answered":  # a self-service check already told the customer why not
            return []
        if outcome == "no_open_bills":
            dispatcher.utter_message(response="utter_nothing_to_change")
            return []
        if outcome == "cancelled":
            dispatcher.utter_message(response="utter_request_cancelled")
            return []
        try:
            if service == "bills":
                bills = await open_bills(tracker)
                dispatcher.utter_message(text=formatters.open_bills(bills, tracker.get_slot("customer_name")))
            elif service == "deferral":
                await create_deferral(dispatcher, tracker)
            elif service == "installments":
                await create_plan(dispatcher, tracker)
            elif service == "interest":
                await quote_interest(dispatcher, tracker)
            elif service in self_service.registry():
                return await self_service.registry()[service].submit(dispatcher, tracker)
        except BillingUnavailable:
            return apologise_backend_down(dispatcher)
        except BillingError as error:
            if error.status == 401:  # the customer token expired: verify again next time
                dispatcher.utter_message(response="utter_identity_expired")
                return reset(IDENTITY_SLOTS)
            return offer_human(dispatcher, refusal_response(error))
        return []


class ActionSwitchService(Action):
    """The customer asks for another of the form's services mid-way: keep the identity, start over."""

    def name(self) -> str:
        return "action_switch_service"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kept = await self_service.keep_answer(dispatcher, tracker)  # issue 12: an IBAN, an e-mail
        if kept is not None:
            return kept
        if tracker.get_slot("requested_slot") == "complaint_text" and tracker.get_slot("complaint_category"):
            # issue 12: the complaint's own words, whatever request they sound like ("letture
            # stimate", "bolletta sbagliata"): the complaint goes on, the text is its answer
            words = str(tracker.latest_message.get("text") or "")
            return [SlotSet("service", "complaint"), SlotSet("complaint_text", words)]
        # the response's variations follow the slot `service` (the request switched to)
        dispatcher.utter_message(response="utter_switch_service")
        return reset((*FLOW_SLOTS, "pending_request"))


class ActionCancelFlow(Action):
    """ "No" / "annulla" while the form asks for data: stop without creating anything."""

    def name(self) -> str:
        return "action_cancel_flow"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_request_interrupted")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *reset((*FLOW_SLOTS, "pending_request"))]
