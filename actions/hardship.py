"""Hardship: the measures in force today, then installments or a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded
from bot import clock
from bot.billing.client import run_blocking
from bot.rules.engine import hardship_measures


class ActionHardshipSupport(Action):
    def name(self) -> str:
        return "action_hardship_support"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # the first call reads the policy file: not on the event loop
        measures = await run_blocking(hardship_measures, clock.today())
        dispatcher.utter_message(response="utter_hardship_measures", measures=" ".join(measures))
        return []
