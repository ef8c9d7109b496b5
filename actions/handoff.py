"""Putting the customer in touch with a person."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import get_settings


class ActionRequestHuman(Action):
    """Tells the customer how to reach the call centre (number and hours from configuration)."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        settings = get_settings()
        dispatcher.utter_message(
            text=(
                "Certamente. Un operatore del servizio clienti può aiutarLa al numero verde "
                f"{settings.call_centre_number}, {settings.call_centre_hours}. "
                "Tenga a portata di mano il codice cliente che trova in bolletta."
            )
        )
        return [SlotSet("handoff_offered", False)]


class ActionDeclineHandoff(Action):
    """The customer said no to the offered human: invite them to rephrase."""

    def name(self) -> Text:
        return "action_decline_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(
            text="Va bene. Provi a scrivermi la richiesta con parole diverse, farò del mio meglio."
        )
        return [SlotSet("handoff_offered", False)]
