"""Two changes to how Rasa's MessageProcessor treats a message (issue 13), installed by
bot/rasa_main.py:

1. A button's title typed as text works like the button. When the customer's message, folded
   (bot/folding.py: case, accents, punctuation and spaces ignored), is the title of a button of
   the assistant's last message, the message is understood as that button's payload ("Sì, un
   operatore" typed = /affirm), in the fallback's "Intendeva...?" as anywhere else. The text
   stays what the customer wrote.
2. Emergencies while the conversation is paused for a person. Rasa predicts nothing while a
   conversation is paused (ConversationPaused: waiting for an agent, or an agent has it); a
   message the NLU reads as report_outage (bot/nlu/emergency.py guarantees it for gas smells,
   leaks and power cuts) is handled anyway: the emergency numbers and gas advice go out at once
   and action_report_outage flags the ticket for the agent. The conversation stays paused.
3. Issue 14: the rating after a conversation with a person. Right after the question
   (utter_ask_csat, whose buttons are /rate_service payloads), a typed "4", "5 stelle" or
   "ottimo" (bot/csat.py) is understood as the same payload: the NLU never reads it.
4. Issue 14: a message sent while the conversation waits for a person (paused) carries
   `"waiting_for_agent": true` in its metadata, so that the summaries do not count it as
   "not understood" (bot/support/summaries.py): "c'è qualcuno?" is not a fallback.
"""

from __future__ import annotations

import functools
from typing import Any

from rasa.core.actions.action import action_for_name_or_text
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import csat
from bot.folding import fold_alnum
from bot.nlu.emergency import EMERGENCY_INTENT
from bot.support.handoff import WAITING_FOR_AGENT

EMERGENCY_ACTION = "action_report_outage"
MAX_TITLE_CHARS = 80  # a message longer than any button title is never one


def last_buttons(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """The buttons of the assistant's last message since the customer last wrote."""
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            if buttons:
                return [b for b in buttons if isinstance(b, dict)]
        elif event.type_name == "user":
            break
    return []


def typed_button_payload(text: str | None, tracker: DialogueStateTracker) -> str | None:
    """The payload of the button whose title the customer typed, if they typed one, or of the
    rating they typed in answer to the rating question."""
    if not text or len(text) > MAX_TITLE_CHARS or text.startswith("/"):
        return None
    typed = fold_alnum(text)
    if not typed:
        return None
    buttons = last_buttons(tracker)
    for button in buttons:
        payload = button.get("payload")
        if isinstance(payload, str) and fold_alnum(str(button.get("title") or "")) == typed:
            return payload
    asked_rating = any(str(b.get("payload") or "").startswith("/" + csat.INTENT) for b in buttons)
    rating = csat.parse_rating(text) if asked_rating else None
    return csat.payload(rating) if rating is not None else None


_original_handle = MessageProcessor._handle_message_with_tracker


@functools.wraps(_original_handle)
async def _handle_message_with_tracker(
    self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker
) -> None:
    if tracker.is_paused():
        message.metadata = {**(message.metadata or {}), WAITING_FOR_AGENT: True}
    if not message.parse_data:
        payload = typed_button_payload(message.text, tracker)
        if payload is not None:
            # the button's meaning, the customer's words: parsed as the payload, stored as typed
            parsed = await self.parse_message(UserMessage(payload, sender_id=message.sender_id), tracker)
            message.parse_data = {**parsed, "text": message.text}
    await _original_handle(self, message, tracker)


def is_paused_emergency(tracker: DialogueStateTracker) -> bool:
    latest = tracker.latest_message
    return tracker.is_paused() and latest is not None and latest.intent.get("name") == EMERGENCY_INTENT


_original_loop = MessageProcessor._run_prediction_loop


@functools.wraps(_original_loop)
async def _run_prediction_loop(
    self: MessageProcessor, output_channel: OutputChannel, tracker: DialogueStateTracker
) -> None:
    if not is_paused_emergency(tracker):
        await _original_loop(self, output_channel, tracker)
        return
    # Paused: no policy is asked (they would predict from a conversation an agent is having);
    # the emergency action runs, once, and the conversation stays with the agent.
    action = action_for_name_or_text(EMERGENCY_ACTION, self.domain, self.action_endpoint)
    prediction = PolicyPrediction.for_action_name(self.domain, EMERGENCY_ACTION)
    await self._run_action(action, tracker, output_channel, self.nlg, prediction)


def _should_handle_message(tracker: DialogueStateTracker) -> bool:
    latest = tracker.latest_message
    restart = latest is not None and latest.intent.get("name") == "restart"
    return not tracker.is_paused() or restart or is_paused_emergency(tracker)


def install() -> None:
    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    MessageProcessor._run_prediction_loop = _run_prediction_loop
    MessageProcessor._should_handle_message = staticmethod(_should_handle_message)
