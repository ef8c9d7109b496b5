"""The customer's rating after a conversation with a person, and the greeting by the hour
(issue 14).

action_record_rating: the rating from the button's entity (or the typed answer,
bot/conversation_guards.py), stored on the ticket that asked for it (bot/support/handoff.py).
action_part_of_day: sets `part_of_day` from the business clock (Europe/Rome) just before
utter_greet, whose variations in domain.yml are conditioned on it: no "Buongiorno" at 21:00.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded, logger
from actions.handoff import desk
from bot import clock
from bot.csat import ENTITY, parse_rating, rating_of


class ActionRecordRating(Action):
    def name(self) -> str:
        return "action_record_rating"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        entity = next(tracker.get_latest_entity_values(ENTITY), None)
        rating = rating_of(entity) if entity is not None else parse_rating(tracker.latest_message.get("text"))
        if rating is None:
            dispatcher.utter_message(response="utter_ask_csat_again")
            return []
        try:
            recorded = await asyncio.to_thread(lambda: desk().record_rating(tracker.sender_id, rating))
        except Exception as error:  # noqa: BLE001 - a lost rating is not worth an apology
            logger.error("rating not recorded: %s", type(error).__name__)
            recorded = False
        if not recorded:
            logger.info("rating without a ticket waiting for one (already rated, or not asked)")
        dispatcher.utter_message(response="utter_csat_thanks")
        return []


class ActionPartOfDay(Action):
    def name(self) -> str:
        return "action_part_of_day"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return [SlotSet("part_of_day", clock.part_of_day())]
