"""Outage and emergency reports: answered at once, without identification."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded
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

    def name(self) -> Text:
        return "action_report_outage"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        settings = get_settings()
        if _is_gas_report(tracker):
            dispatcher.utter_message(
                text=(
                    "Se sente odore di gas: non accenda luci né apparecchi elettrici, non usi "
                    "fiamme, apra porte e finestre, chiuda il rubinetto del contatore ed esca "
                    "dall'edificio. Poi chiami subito il pronto intervento gas al numero "
                    f"{settings.emergency_number_gas}, attivo 24 ore su 24."
                )
            )
        dispatcher.utter_message(
            text=(
                "Per guasti e interruzioni il pronto intervento è attivo 24 ore su 24: "
                f"luce {settings.emergency_number_electricity}, "
                f"gas {settings.emergency_number_gas}. "
                "Il numero di pronto intervento è riportato anche sulla prima pagina della "
                "bolletta."
            )
        )
        return []
