"""Information questions (issue 13): the answer Rasa's ResponseSelector picked, with the operator's
facts filled in from settings.

The answers are domain.yml responses `utter_faq/<topic>`; the NLU's response selector names the
one to send. Numbers, hours and addresses are the operator's configuration (bot/settings.py),
passed as response variables, never written in the answers. A customer whom the identity form
asks for the codice cliente and who says they do not have it is told where it is printed and
identified with the codice fiscale and the POD/PDR instead (actions/identity.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded
from bot.settings import get_settings

# The topic the form answers by switching to the codice fiscale + POD/PDR identification.
NO_CUSTOMER_CODE_TOPIC = "faq/dove_codice_cliente"
RETRIEVAL_INTENT = "faq"
FALLBACK_RESPONSE = "utter_faq/numero_verde"


def operator_facts() -> dict[str, str]:
    """Every variable the utter_faq/* responses may name."""
    settings = get_settings()
    return {
        "call_centre_number": settings.call_centre_number,
        "call_centre_hours": settings.call_centre_hours,
        "customer_area_url": settings.customer_area_url,
        "offers_url": settings.offers_url,
        "written_contact": settings.written_contact,
        "emergency_number_electricity": settings.emergency_number_electricity,
        "emergency_number_gas": settings.emergency_number_gas,
    }


def selected_response(tracker: Tracker) -> str | None:
    """The response (utter_faq/<topic>) the response selector chose for the latest message, if any."""
    selector = tracker.latest_message.get("response_selector") or {}
    for key in (RETRIEVAL_INTENT, "default"):
        topic = ((selector.get(key) or {}).get("response") or {}).get("intent_response_key")
        if isinstance(topic, str) and topic.startswith(f"{RETRIEVAL_INTENT}/"):
            return f"utter_{topic}"
    return None


def asks_for_customer_code(tracker: Tracker) -> bool:
    return tracker.active_loop.get("name") == "customer_form" and tracker.get_slot("requested_slot") == "customer_code"


def switch_to_supply_identity() -> list[dict[str, Any]]:
    return [SlotSet("identity_method", "supply"), SlotSet("customer_code", None), SlotSet("unproductive_answers", 0)]


class ActionFaq(Action):
    """Send the FAQ answer the response selector picked."""

    def name(self) -> str:
        return "action_faq"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        response = selected_response(tracker)
        if response == f"utter_{NO_CUSTOMER_CODE_TOPIC}" and asks_for_customer_code(tracker):
            # no dead end: the form goes on with the codice fiscale and the POD/PDR
            dispatcher.utter_message(response="utter_no_customer_code_switch")
            return switch_to_supply_identity()
        known = set((domain.get("responses") or {}).keys())
        dispatcher.utter_message(response=response if response in known else FALLBACK_RESPONSE, **operator_facts())
        return []


class ActionIdentifyBySupply(Action):
    """The customer chooses to identify with the codice fiscale and the POD/PDR."""

    def name(self) -> str:
        return "action_identify_by_supply"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("customer_verified"):
            return []
        dispatcher.utter_message(response="utter_identify_by_supply")
        return switch_to_supply_identity()
