"""Outage and emergency reports: answered at once, without identification."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded
from actions.emergency import flag_emergency
from bot.settings import get_settings

# Words that make a report a possible gas leak, whatever the NLU extracted.
_GAS_WORDS = ("gas", "metano", "odore", "puzza", "fuga")


def _is_gas_report(tracker: Tracker) -> bool:
    if tracker.get_slot("supply") == "gas":
        return True
    if "gas" in tracker.get_latest_entity_values("supply"):
        return True
    text = (tracker.latest_message.get("text") or "").lower()
    return any(word in text for word in _GAS_WORDS)


class ActionReportOutage(Action):
    """Gives the emergency numbers from configuration; gas safety advice first when relevant."""

    def name(self) -> str:
        return "action_report_outage"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = get_settings()
        if _is_gas_report(tracker):
            dispatcher.utter_message(response="utter_gas_safety", emergency_number_gas=settings.emergency_number_gas)
        dispatcher.utter_message(
            response="utter_emergency_numbers",
            emergency_number_electricity=settings.emergency_number_electricity,
            emergency_number_gas=settings.emergency_number_gas,
        )
        if tracker.is_paused():
            # issue 13: answered while waiting for / talking to an agent; the agent sees it flagged
            await flag_emergency(tracker.sender_id)
        return []
