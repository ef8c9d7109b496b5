"""Handing the conversation to a person: a ticket with a summary, then the bot pauses.

Triggers: the customer asks (request_human); the customer accepts the person the bot offered
after two failures or a request it cannot serve (`handoff_reason` says which); three failed
identity attempts and a backend outage (FollowupAction from the customer form). The agent
answers from the console on the same channel and hands back (ConversationResumed).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import guarded, logger
from bot.settings import get_settings
from bot.support.handoff import TicketDesk, conversation_summary


@functools.lru_cache(maxsize=1)
def desk() -> TicketDesk:
    return TicketDesk()


class ActionRequestHuman(Action):
    """Open (or find) the ticket, tell the customer what happens next, pause the bot."""

    def name(self) -> str:
        return "action_request_human"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reason = tracker.get_slot("handoff_reason") or "request_human"
        channel = tracker.get_latest_input_channel()
        summary = conversation_summary(tracker.events, tracker.current_slot_values(), channel, reason)
        try:
            # desk() itself migrates the support database on first use: off the event loop too
            queued = await asyncio.to_thread(lambda: desk().open_ticket(tracker.sender_id, channel, reason, summary))
        except Exception as error:  # noqa: BLE001 - without the support database: the phone
            logger.error("handoff failed: %s", type(error).__name__)
            settings = get_settings()
            dispatcher.utter_message(
                response="utter_handoff_unavailable",
                call_centre_number=settings.call_centre_number,
                call_centre_hours=settings.call_centre_hours,
            )
            return [SlotSet("handoff_offered", False), SlotSet("handoff_reason", None)]
        dispatcher.utter_message(text=queued.message)
        return [SlotSet("handoff_offered", False), SlotSet("handoff_reason", None), ConversationPaused()]


class ActionDeclineHandoff(Action):
    """The customer said no to the offered human: invite them to rephrase."""

    def name(self) -> str:
        return "action_decline_handoff"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_declined")
        return [SlotSet("handoff_offered", False), SlotSet("handoff_reason", None)]
