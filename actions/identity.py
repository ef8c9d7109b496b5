"""Identity: codice cliente and codice fiscale, checked with python-stdnum before the backend.

A mistyped codice fiscale gets a specific hint; a wrong pair costs one of three attempts;
after three, a person takes over. The backend counts the checks per conversation too
(X-Client-Id), across customer codes, and answers 429 beyond its limits. The codice fiscale
never appears in clear in a message.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.it import codicefiscale

from actions.common import AskWithResponse, billing, offer_way_out
from bot.billing.client import BillingError, BillingUnavailable, client_id_for, run_blocking
from bot.masking import mask_fiscal_code

MAX_ATTEMPTS = 3
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
# POD: IT + 3 digits + E + 8-9 characters; PDR: 14 digits (../shared/domain/rules.md §6). Linear.
_POD = re.compile(r"(?<![A-Za-z0-9])(IT\d{3}E[0-9A-Z]{8,9})(?![A-Za-z0-9])", re.IGNORECASE)
_PDR = re.compile(r"(?<!\d)(\d{14})(?!\d)")


def extract_customer_code(text: str) -> str | None:
    match = _CODE.search(re.sub(r"(?<=\d)[ .](?=\d)", "", text or ""))
    return match.group(1) if match else None


def extract_supply_point(text: str) -> str | None:
    """A POD or PDR in a message ("IT001E 1234 5678", "0088 1234 5000 01"), upper case."""
    joined = re.sub(r"(?<=[A-Za-z0-9])[ .-](?=[A-Za-z0-9])", "", (text or "")[:200])
    match = _POD.search(joined) or _PDR.search(joined)
    return match.group(1).upper() if match else None


def unproductive(tracker: Tracker) -> int:
    """How many answers in a row did not answer the question being asked (this one included)."""
    return int(tracker.get_slot("unproductive_answers") or 0) + 1


def extract_fiscal_code(text: str) -> str:
    """The likeliest codice fiscale in a message: the longest alphanumeric run, spaces removed
    inside it ("RSS MRA 80A01 H501U")."""
    candidates = re.findall(r"[A-Za-z0-9]{11,}", re.sub(r"(?<=[A-Za-z0-9]) (?=[A-Za-z0-9])", "", text or ""))
    if not candidates:
        candidates = re.findall(r"[A-Za-z0-9]+", text or "")
    return max(candidates, key=len).upper() if candidates else ""


def fiscal_code_problem(value: str) -> str | None:
    """The response that says what is wrong with a codice fiscale, or None if it is valid."""
    try:
        codicefiscale.validate(value)
    except InvalidLength:
        return "utter_fiscal_code_length"  # says how many characters were written: {length}
    except InvalidChecksum:
        return "utter_fiscal_code_checksum"
    except InvalidFormat:
        return "utter_fiscal_code_format"
    return None


class IdentityValidation:
    """validate_<slot> methods for the identity slots (mixed into the form validation)."""

    async def validate_customer_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(value or "")
        code = extract_customer_code(text)
        if code is not None:
            return {"customer_code": code, "unproductive_answers": 0}
        point = extract_supply_point(text)
        if point is not None:
            # a POD/PDR instead of the codice cliente: identify with it and the codice fiscale
            dispatcher.utter_message(response="utter_identify_by_supply_point_given")
            return {
                "customer_code": None,
                "identity_method": "supply",
                "supply_point": point,
                "unproductive_answers": 0,
            }
        count = unproductive(tracker)
        if count >= 2:
            # the second answer that does not help: a way out rather than the same question again
            return {"customer_code": None, **offer_way_out(dispatcher, "utter_identity_way_out")}
        dispatcher.utter_message(response="utter_customer_code_not_understood")
        return {"customer_code": None, "unproductive_answers": count}

    async def validate_supply_point(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        point = extract_supply_point(str(value or ""))
        if point is not None:
            return {"supply_point": point, "unproductive_answers": 0}
        count = unproductive(tracker)
        if count >= 2:
            return {"supply_point": None, **offer_way_out(dispatcher, "utter_identity_way_out_supply")}
        dispatcher.utter_message(response="utter_supply_point_not_understood")
        return {"supply_point": None, "unproductive_answers": count}

    async def validate_fiscal_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        fiscal_code = extract_fiscal_code(str(value or ""))
        problem = fiscal_code_problem(fiscal_code)
        by_supply = tracker.get_slot("identity_method") == "supply"
        if problem:
            count = unproductive(tracker)
            if count >= 2:
                way_out = "utter_identity_way_out_supply" if by_supply else "utter_identity_way_out"
                return {"fiscal_code": None, **offer_way_out(dispatcher, way_out)}
            dispatcher.utter_message(response=problem, length=len(fiscal_code))
            return {"fiscal_code": None, "unproductive_answers": count}
        customer_code = tracker.get_slot("customer_code")
        supply_point = tracker.get_slot("supply_point")
        attempts = int(tracker.get_slot("identity_attempts") or 0)
        client_id = client_id_for(tracker.sender_id)
        try:
            if by_supply:
                verified = await run_blocking(billing().verify_supply, fiscal_code, supply_point, client_id)
            else:
                verified = await run_blocking(billing().verify, customer_code, fiscal_code, client_id)
        except BillingUnavailable:
            return {"fiscal_code": None, "flow_outcome": "backend_down"}
        except BillingError as error:
            attempts += 1
            if error.status == 429 or attempts >= MAX_ATTEMPTS:
                return {
                    "fiscal_code": None,
                    "customer_code": None,
                    "identity_attempts": attempts,
                    "flow_outcome": "identity_failed",
                }
            dispatcher.utter_message(
                response="utter_identity_mismatch_supply" if by_supply else "utter_identity_mismatch",
                customer_code=customer_code,
                masked_fiscal_code=mask_fiscal_code(fiscal_code),
                attempt=attempts,
                max_attempts=MAX_ATTEMPTS,
            )
            return {"fiscal_code": None, "customer_code": None, "supply_point": None, "identity_attempts": attempts}
        dispatcher.utter_message(response="utter_identity_verified", first_name=verified["name"].split()[0])
        return {
            "fiscal_code": mask_fiscal_code(fiscal_code),
            "customer_verified": True,
            "customer_token": verified["customer_token"],
            "customer_name": verified["name"],
            "customer_code": verified["customer_code"],
            "identity_attempts": 0,
            "unproductive_answers": 0,
        }


class _AskIdentityQuestion(AskWithResponse):
    """A question of the identity form, unless the way out was offered instead of it this turn.

    Abstract (rasa-sdk registers only concrete subclasses): each subclass names its action and
    its response."""

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        if tracker.get_slot("way_out_offered"):
            return [SlotSet("way_out_offered", False)]  # the way out just asked; not the question again
        return super().ask(dispatcher, tracker)


class ActionAskCustomerCode(_AskIdentityQuestion):
    action_name = "action_ask_customer_code"
    response = "utter_customer_code_please"


class ActionAskFiscalCode(_AskIdentityQuestion):
    action_name = "action_ask_fiscal_code"
    response = "utter_fiscal_code_please"


class ActionAskSupplyPoint(_AskIdentityQuestion):
    """Issue 13: the POD or PDR, with where it is printed."""

    action_name = "action_ask_supply_point"
    response = "utter_supply_point_please"
