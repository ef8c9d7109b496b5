"""The steps of Rasa's two-stage fallback, in Italian.

Rasa's `action_two_stage_fallback` calls these by name: first "Did you mean ...?" with the
likeliest intents as buttons ("Nessuna di queste" sends `/out_of_scope`, which Rasa reads as
a denial), then a request to rephrase, and after a second failure the offer of a human.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded
from bot.intents import CONVERSATION_INTENTS, INTENT_LABELS, NONE_OF_THESE

MAX_SUGGESTIONS = 3
# Never offered as "Did you mean ...?": not requests a customer would pick. Asking whether one
# talks to a machine is (bot_challenge stays); nlu_fallback is Rasa's, not an intent of ours.
# faq: a button "/faq" carries no question for the response selector to answer (issue 13);
# identify_by_supply is offered by the identity form itself.
NOT_SUGGESTED = (CONVERSATION_INTENTS - {"bot_challenge"}) | {"nlu_fallback", "faq", "identify_by_supply"}


def suggested_intents(intent_ranking: list[dict[str, Any]], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The most likely intents worth offering as buttons, best first."""
    names = [
        str(entry["name"])
        for entry in intent_ranking
        if entry.get("name") in INTENT_LABELS and entry.get("name") not in NOT_SUGGESTED
    ]
    return names[:limit]


class ActionAskAffirmation(Action):
    """First stage: offer the likeliest intents as buttons."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        intents = suggested_intents(ranking)
        buttons = [{"title": INTENT_LABELS[name], "payload": f"/{name}"} for name in intents]
        buttons.append({"title": NONE_OF_THESE, "payload": "/out_of_scope"})
        dispatcher.utter_message(response="utter_did_you_mean" if intents else "utter_not_sure", buttons=buttons)
        return []


class ActionAskRephrase(Action):
    """Between the two stages: ask for the request in other words, with an example."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []


class ActionDefaultFallback(Action):
    """Second stage: after two failures, offer a human instead of guessing again."""

    def name(self) -> str:
        return "action_default_fallback"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_default")
        # Revert the message that was not understood so it does not steer later predictions;
        # the slot set after the revert survives it and lets a plain "sì" accept the offer.
        return [UserUtteranceReverted(), SlotSet("handoff_offered", True), SlotSet("handoff_reason", "fallback")]
