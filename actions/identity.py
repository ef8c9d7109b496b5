"""Identity: codice cliente and codice fiscale, checked with python-stdnum before the backend.

A mistyped codice fiscale gets a specific hint; a wrong pair costs one of three attempts;
after three, a person takes over. The backend counts the checks per conversation too
(X-Client-Id), across customer codes, and answers 429 beyond its limits. The codice fiscale
never appears in clear in a message.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.it import codicefiscale

from actions.common import billing, guarded
from bot.billing.client import BillingError, BillingUnavailable, client_id_for, run_blocking
from bot.masking import mask_fiscal_code

MAX_ATTEMPTS = 3
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def extract_customer_code(text: str) -> str | None:
    match = _CODE.search(re.sub(r"(?<=\d)[ .](?=\d)", "", text or ""))
    return match.group(1) if match else None


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
        code = extract_customer_code(str(value or ""))
        if code is None:
            dispatcher.utter_message(response="utter_customer_code_not_understood")
            return {"customer_code": None}
        return {"customer_code": code}

    async def validate_fiscal_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        fiscal_code = extract_fiscal_code(str(value or ""))
        problem = fiscal_code_problem(fiscal_code)
        if problem:
            dispatcher.utter_message(response=problem, length=len(fiscal_code))
            return {"fiscal_code": None}
        customer_code = tracker.get_slot("customer_code")
        attempts = int(tracker.get_slot("identity_attempts") or 0)
        try:
            verified = await run_blocking(
                billing().verify, customer_code, fiscal_code, client_id_for(tracker.sender_id)
            )
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
                response="utter_identity_mismatch",
                customer_code=customer_code,
                masked_fiscal_code=mask_fiscal_code(fiscal_code),
                attempt=attempts,
                max_attempts=MAX_ATTEMPTS,
            )
            return {"fiscal_code": None, "customer_code": None, "identity_attempts": attempts}
        dispatcher.utter_message(response="utter_identity_verified", first_name=verified["name"].split()[0])
        return {
            "fiscal_code": mask_fiscal_code(fiscal_code),
            "customer_verified": True,
            "customer_token": verified["customer_token"],
            "customer_name": verified["name"],
            "identity_attempts": 0,
        }


class ActionAskCustomerCode(Action):
    def name(self) -> str:
        return "action_ask_customer_code"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_customer_code_please")
        return []


class ActionAskFiscalCode(Action):
    def name(self) -> str:
        return "action_ask_fiscal_code"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_fiscal_code_please")
        return []
