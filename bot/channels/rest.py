"""Rasa's REST channel, safe to resend: POST /webhooks/rest/webhook

    {"sender": "conversation id", "message": "testo", "message_id": "optional, unique per message"}

A client that loses the answer to a message (the Rasa replica serving it crashed and nginx
answered 502, the connection dropped, a timeout) sends it again with the same `message_id`.
Rasa stores a turn in one transaction at its end, so the first attempt left either nothing or
the whole turn. Under the conversation's lock, the channel looks the id up:

- not there: an ordinary new message (one query on the conversation's last 50 user messages:
  a client resends within seconds; a resend older than that would count as new);
- there, answered (an action ran after it): the replies it got the first time, from the tracker,
  without processing it again — it is stored once and its actions ran once;
- there, with no action after it (appended through Rasa's HTTP API, or received while the
  conversation was paused for an agent): its turn is run now, as Rasa's `handle_message` would
  (nothing happens while the conversation is paused).

Without `message_id` it behaves as Rasa's channel. Malformed requests get 400 (Rasa's answers
500). When the message cannot be processed (the tracker store unreachable, say) the answer is
503 with an apology — Rasa's channel answers 200 with nothing — so that clients resend it; the
failure is logged without the message text, which may hold a codice fiscale.

Trust boundary (issue 10, docs/security.md): this is a server-to-server channel. Every request
needs `Authorization: Bearer $REST_CHANNEL_TOKEN` (401 without it; 503 while the setting is
empty: the channel refuses everything rather than run open). The client's `metadata` is dropped,
never passed to Rasa: metadata is what the actions may trust, so only channels write it. The
`sender` is the conversation id as is, restricted to SENDER_PATTERN: it has no ':', which every
other channel's ids carry ("wa:...", "web:..."), so REST can never address their conversations.
A message over MAX_MESSAGE_CHARS gets the request to shorten it and is not stored
(bot/channels/limits.py).

Fetching what arrived later (issue 14): an agent's reply, or anything appended after the client's
last answer, is fetched with `GET /webhooks/rest/messages?sender=<id>&after=<timestamp>` (same
Bearer token): the bot's and agents' messages stored after `after` (the `timestamp` of the last
one the client has; 0 for all), oldest first, at most MAX_FETCH; page on with the last one's
timestamp. Only conversations whose latest input channel is REST are served (404 otherwise).
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import UNAVAILABLE_REPLY
from bot.channels.limits import bounded
from bot.rasa_compat import require
from bot.rasa_stores import UrlSQLTrackerStore
from bot.settings import get_settings

require("rasa", __name__)

logger = logging.getLogger(__name__)

MAX_MESSAGE_ID = 100
# No ':' (other channels' ids have one), no control characters, bounded: fullmatch of one
# character class, linear in the length.
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
MAX_FETCH = 200


def fetched(sender: str, event: BotUttered) -> dict[str, Any]:
    """A stored bot event as the fetch route answers it: who wrote it, the text, its timestamp."""
    custom = (event.data or {}).get("custom")
    turn = custom.get("data") if isinstance(custom, dict) else None
    if isinstance(turn, dict) and turn.get("sender") == "agent":
        return {
            "recipient_id": sender,
            "text": turn.get("text") or "",
            "timestamp": event.timestamp,
            "from": "agent",
            "agent_name": turn.get("agent_name"),
        }
    message: dict[str, Any] = {
        "recipient_id": sender,
        "text": event.text or "",
        "timestamp": event.timestamp,
        "from": "bot",
    }
    if (event.data or {}).get("buttons"):
        message["buttons"] = event.data["buttons"]
    return message


def _bad_request(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


def authorised(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time, as bytes: compare_digest refuses
    non-ASCII str, and Sanic decodes a header's non-UTF-8 bytes to surrogates."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode("utf-8", "surrogateescape"), token.encode())


def turn_after(tracker: DialogueStateTracker | None, message_id: str) -> dict[str, Any] | None:
    """What the conversation holds after the user message `message_id`: None if it has no such
    message, else whether an action ran after it and the bot's messages up to the next user one."""
    if tracker is None:
        return None
    events = list(tracker.events)
    start = next((i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == message_id), None)
    if start is None:
        return None
    answered, replies = False, []
    for event in events[start + 1 :]:
        if isinstance(event, UserUttered):
            break
        answered |= isinstance(event, ActionExecuted)
        if isinstance(event, BotUttered):
            replies.append(event)
    return {"answered": answered, "replies": replies}


class ResendableRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ResendableRestInput:
        return cls(get_settings().rest_channel_token)

    def __init__(self, token: str = "") -> None:
        self.token = token
        if not token:
            logger.warning("REST channel refuses every request: REST_CHANNEL_TOKEN is not set")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("resendable_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/messages", methods=["GET"])
        async def fetch(request: Request) -> HTTPResponse:
            if not self.token:
                return response.json({"error": "REST channel not configured (REST_CHANNEL_TOKEN)"}, status=503)
            if not authorised(request.headers.get("Authorization"), self.token):
                return response.json(
                    {"error": "missing or invalid Authorization: Bearer token"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            sender = request.args.get("sender")
            if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender):
                return _bad_request("'sender' must be 1 to 128 characters among letters, digits and _ . @ -")
            try:
                after = float(request.args.get("after", "0")[:40])
            except ValueError:
                after = math.nan
            if not math.isfinite(after) or after < 0:
                return _bad_request("'after' must be a timestamp (seconds since the epoch), 0 or more")
            tracker = await request.app.ctx.agent.tracker_store.retrieve_full_tracker(sender)
            if tracker is None or tracker.get_latest_input_channel() != self.name():
                return response.json({"error": "no REST conversation with this sender"}, status=404)
            later = [
                fetched(sender, e) for e in tracker.events if isinstance(e, BotUttered) and (e.timestamp or 0) > after
            ]
            return response.json({"messages": later[:MAX_FETCH], "more": len(later) > MAX_FETCH})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.token:
                return response.json({"error": "REST channel not configured (REST_CHANNEL_TOKEN)"}, status=503)
            if not authorised(request.headers.get("Authorization"), self.token):
                return response.json(
                    {"error": "missing or invalid Authorization: Bearer token"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own BadRequest for invalid JSON
                return _bad_request("the body must be JSON")
            if not isinstance(body, dict):
                return _bad_request("the body must be a JSON object")
            sender, text, message_id = body.get("sender"), body.get("message"), body.get("message_id")
            if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender):
                return _bad_request("'sender' must be 1 to 128 characters among letters, digits and _ . @ -")
            if not isinstance(text, str) or not text.strip():
                return _bad_request("'message' must be a non-empty string")
            if "\x00" in text:
                return _bad_request("'message' must not contain NUL characters")
            if message_id is not None and (
                not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID or "\x00" in message_id
            ):
                return _bad_request(f"'message_id' must be a string of 1 to {MAX_MESSAGE_ID} characters")

            collector = CollectingOutputChannel()
            # metadata=None: the client's metadata never reaches Rasa (see the module docstring)
            message = UserMessage(
                text, collector, sender, input_channel=self.name(), metadata=None, message_id=message_id
            )
            agent = request.app.ctx.agent
            try:
                if message_id is None:
                    await bounded(on_new_message)(message)
                else:
                    await bounded(lambda m: self._handle_once(agent, m))(message)
            except Exception as error:  # noqa: BLE001 - a store down (PostgreSQL, Redis): say so, 503
                logger.error("REST message not processed: %s", type(error).__name__)
                return response.json([{"recipient_id": sender, "text": UNAVAILABLE_REPLY}], status=503)
            return response.json(collector.messages)

        return webhook

    @staticmethod
    async def _handle_once(agent: Any, message: UserMessage) -> None:
        # what Agent.handle_message does, with the duplicate check inside the same lock
        async with agent.lock_store.lock(message.sender_id):
            processor, store = agent.processor, agent.tracker_store
            if isinstance(store, UrlSQLTrackerStore) and not store.has_user_message(
                message.sender_id, message.message_id
            ):
                await processor.handle_message(message)  # the usual case: a new message
                return
            tracker = await store.retrieve_full_tracker(message.sender_id)
            earlier = turn_after(tracker, message.message_id)
            if earlier is None:
                await processor.handle_message(message)
            elif earlier["answered"]:
                for reply in earlier["replies"]:
                    await message.output_channel.send_response(message.sender_id, {"text": reply.text, **reply.data})
            else:
                # the rest of Rasa's MessageProcessor.handle_message, after it logged the message
                tracker = await store.retrieve(message.sender_id)
                tracker = await processor.run_action_extract_slots(message.output_channel, tracker)
                await processor._run_prediction_loop(message.output_channel, tracker)
                await processor.run_anonymization_pipeline(tracker)
                await processor.save_tracker(tracker)
