"""Rasa's socket.io channel (the website widget), with the trust boundary closed.

Rasa's channel trusts the client for everything: the conversation is whatever `session_id` the
client names (a second socket naming another's id reads its replies and writes into it, issue
10 finding 3), and message metadata is passed through as the client wrote it (a
`customer_area_token` in it identified the customer, finding 1). Here, keeping Rasa's protocol
(`session_request` -> `session_confirm` with the id, `user_uttered`, `bot_uttered`) so that any
standard Rasa socket.io client works:

- Session ids are issued by the server: `web:<random>.<HMAC>` (key CONVERSATION_ID_SECRET). The
  conversation (tracker sender id) is `web:<random>`; the client's copy carries the signature. A
  `session_request` with a validly signed id resumes that conversation (reload, reconnection);
  anything else gets a fresh one. The signature also covers the customer-area login the socket
  connected with, so a conversation started by one customer is not resumed by another login nor
  after logout.
- Every socket is bound server-side to its conversation; `user_uttered` uses the bound id, never
  the payload's, and replies go only to sockets bound to the conversation.
- A customer-area token is accepted only in the connection's `auth` (`io(url, {auth: {token}})`),
  checked there (bot/customer_area.py). Each message's metadata is built here: the client's
  metadata is dropped, and `customer_area_token` is added only from the verified connection.
- Browsers connect only from allowed origins (CORS_ORIGINS; default the web service's own).
- Nothing is lost (issue 14): every `bot_uttered` carries the bot event's `timestamp`, and a
  `session_request` that resumes a conversation with `after: <the last timestamp the client
  saw>` gets, on that socket only, every bot and agent message stored after it (the tracker
  store is the outbox): a reply an agent wrote while the page was closed arrives on return.
- An agent's message (stored as a bot event with a custom payload, bot/console/turns.py) is sent
  as Rasa documents a bot message, `{"text": ...}`, with `metadata: {"sender": "agent",
  "agent_name": ...}` beside it: a standard client renders the text and ignores the rest. Its
  line breaks are kept (one message, not split at blank lines).
- The console says when an agent is typing: `POST /webhooks/socketio/typing` (Rasa's API token,
  loopback) emits `agent_typing {"typing": bool}` to the conversation's sockets; clients that do
  not know the event ignore it.
- Malformed events get an `error` event with a short reason, never an exception; over-long
  messages get the polite request to shorten them (bot/channels/limits.py); a message that cannot
  be processed gets the apology. Failures are logged without the message text.

Over 300 lines: the session signing, the socket-to-conversation binding and the replay of missed
messages guard the same boundary and are read together in a review (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from bot import customer_area
from bot.channels import apologise
from bot.channels.limits import bounded
from bot.channels.rest import authorised
from bot.rasa_compat import require
from bot.settings import Settings, get_settings

require("rasa", __name__)

logger = logging.getLogger(__name__)

PREFIX = "web:"
# A signed id is about 70 characters; anything much longer is not one of ours.
MAX_SESSION_ID_CHARS = 128
MAX_TOKEN_CHARS = 4096
ERROR_EVENT = "error"
TYPING_EVENT = "agent_typing"
# a replay sends at most this many messages (the most recent ones after `after`)
MAX_REPLAY = 200


def agent_payload(custom: Any) -> dict[str, Any] | None:
    """The agent's turn inside a bot event's custom payload (bot/console/turns.py), or None."""
    turn = custom.get("data") if isinstance(custom, dict) else None
    if isinstance(turn, dict) and turn.get("sender") == "agent" and isinstance(turn.get("text"), str):
        return turn
    return None


class ProtocolOutput(SocketIOOutput):
    """Rasa's socket.io output, plus what a standard client ignores: each message's `timestamp`
    (the bot event's: the client sends the last one back to get what it missed) and, on an
    agent's message, `metadata` naming the agent; the agent's text is a plain `text`."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self._timestamp: float | None = None

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self._timestamp = message.get("timestamp")
        await super().send_response(recipient_id, message)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self._timestamp is not None and isinstance(response, dict):
            response = {**response, "timestamp": self._timestamp}
        await self.sio.emit(self.bot_message_evt, response, room=socket_id)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        turn = agent_payload(json_message)
        if turn is None:
            await super().send_custom_json(recipient_id, json_message, **kwargs)
            return
        metadata = {"sender": "agent", "agent_name": turn.get("agent_name") or "Operatore"}
        await self._send_message(recipient_id, {"text": turn["text"], "metadata": metadata})


def replay_after(after: Any) -> float | None:
    """The client's last seen timestamp, if it is one (else no replay)."""
    if isinstance(after, bool) or not isinstance(after, (int, float)) or not math.isfinite(after) or after < 0:
        return None
    return float(after)


def answering_failures(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:  # noqa: BLE001 - the customer must not wait for nothing
            logger.error("socket.io message not processed: %s", type(error).__name__)
            await apologise(message.output_channel, message.sender_id, logger)

    return handle


class SessionIds:
    """Issues and checks signed socket.io session ids."""

    def __init__(self, secret: str) -> None:
        if not secret:
            # ids then last as long as this process: a restart starts new conversations
            logger.warning("CONVERSATION_ID_SECRET is empty: socket.io session ids signed with a per-process key")
            secret = secrets.token_urlsafe(32)
        self._key = hmac.new(secret.encode(), b"socketio-session-id", hashlib.sha256).digest()

    def _signature(self, conversation: str, customer: str | None) -> str:
        signed = f"{conversation}\x00{customer or ''}".encode()
        return hmac.new(self._key, signed, hashlib.sha256).hexdigest()[:32]

    def issue(self, customer: str | None) -> tuple[str, str]:
        """A new conversation: (its sender id, the signed id the client keeps)."""
        conversation = PREFIX + secrets.token_hex(16)
        return conversation, f"{conversation}.{self._signature(conversation, customer)}"

    def verify(self, signed_id: Any, customer: str | None) -> str | None:
        """The conversation of a validly signed id (for this login), else None."""
        if not isinstance(signed_id, str) or len(signed_id) > MAX_SESSION_ID_CHARS or not signed_id.startswith(PREFIX):
            return None
        conversation, _, signature = signed_id.rpartition(".")
        if not conversation or not hmac.compare_digest(signature, self._signature(conversation, customer)):
            return None
        return conversation


@dataclass
class Connection:
    """What the server verified about one socket."""

    customer_area_token: str | None = None
    customer_code: str | None = None
    conversation: str | None = None
    app: Any = None  # Rasa's Sanic app: its agent's tracker store holds what to replay


class AnsweringSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        settings = get_settings()
        handle = answering_failures(bounded(on_new_message))
        session_ids = SessionIds(settings.conversation_id_secret)
        allowed_origins = set(settings.allowed_origins)
        # cors_allowed_origins=[]: engine.io adds no CORS headers (Sanic's CORS does, for Rasa's
        # whole app; both would duplicate them); the origin is checked at `connect` instead.
        # max_http_buffer_size bounds every packet; the message cap itself is bounded()'s.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=settings.max_request_bytes)
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        connections: dict[str, Connection] = {}
        api_token = settings.rasa_api_token

        async def refuse(sid: str, code: str, reason: str) -> None:
            await sio.emit(ERROR_EVENT, {"code": code, "reason": reason}, room=sid, namespace=self.namespace)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/typing", methods=["POST"])
        async def typing(request: Request) -> HTTPResponse:
            """The console: an agent is (or stopped) typing in this conversation."""
            if not authorised(request.headers.get("Authorization"), api_token):
                return response.json({"error": "missing or invalid Authorization: Bearer token"}, status=401)
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own BadRequest for invalid JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            conversation = body.get("conversation_id")
            if not isinstance(conversation, str) or not conversation.startswith(PREFIX) or len(conversation) > 64:
                return response.json({"error": "conversation_id must be a web: conversation"}, status=400)
            await sio.emit(
                TYPING_EVENT, {"typing": bool(body.get("typing"))}, room=conversation, namespace=self.namespace
            )
            return response.json({"status": "sent"})

        async def replay(sid: str, connection: Connection, after: float) -> None:
            agent = getattr(getattr(connection.app, "ctx", None), "agent", None)
            if agent is None or agent.tracker_store is None or connection.conversation is None:
                return
            tracker = await agent.tracker_store.retrieve_full_tracker(connection.conversation)
            if tracker is None:
                return
            missed = [e for e in tracker.events if isinstance(e, BotUttered) and (e.timestamp or 0) > after]
            output = ProtocolOutput(sio, self.bot_message_evt)
            for event in missed[-MAX_REPLAY:]:
                await output.send_response(sid, event.message())

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin and origin.rstrip("/") not in allowed_origins:
                # a page of another site must not converse in a visitor's name (nor read replies)
                raise ConnectionRefusedError("origin_not_allowed")
            request = environ.get("sanic.request")
            connection = Connection(app=getattr(request, "app", None))
            token = auth.get("token") if isinstance(auth, dict) else None
            if token is not None:
                claims = _verified_claims(token, settings)
                if claims is None:
                    raise ConnectionRefusedError("customer_area_token_invalid")
                connection.customer_area_token, connection.customer_code = token, claims["sub"]
            connections[sid] = connection
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            connections.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, *args: Any) -> None:
            connection = connections.get(sid)
            if connection is None:
                return
            data = args[0] if args else None
            if data is not None and not isinstance(data, dict):
                await refuse(sid, "bad_session_request", "session_request takes an object or nothing")
                return
            requested = (data or {}).get("session_id")
            conversation = session_ids.verify(requested, connection.customer_code)
            if conversation is None:
                conversation, signed_id = session_ids.issue(connection.customer_code)
            else:
                signed_id = str(requested)
            if connection.conversation and connection.conversation != conversation:
                sio.leave_room(sid, connection.conversation, namespace=self.namespace)
            connection.conversation = conversation
            # Rasa's output channel sends replies to the room named after the sender id
            sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", signed_id, room=sid, namespace=self.namespace)
            after = replay_after((data or {}).get("after"))
            if after is not None and signed_id == requested:
                try:
                    await replay(sid, connection, after)
                except Exception as error:  # noqa: BLE001 - the live conversation still works
                    logger.error("socket.io replay failed: %s", type(error).__name__)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, *args: Any) -> None:
            connection = connections.get(sid)
            if connection is None:
                return
            data = args[0] if args else None
            problem = _malformed(data)
            if problem or not isinstance(data, dict):
                await refuse(sid, "bad_message", problem or "malformed")
                return
            if connection.conversation is None:
                await refuse(sid, "no_session", "send session_request first")
                return
            metadata = {"customer_area_token": connection.customer_area_token} if connection.customer_area_token else {}
            await handle(
                UserMessage(
                    data["message"],
                    ProtocolOutput(sio, self.bot_message_evt),
                    connection.conversation,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return blueprint

    def get_output_channel(self) -> ProtocolOutput | None:
        """The output for events appended through Rasa's HTTP API (the console's agent turns)."""
        sio = getattr(self, "sio", None)
        return ProtocolOutput(sio, self.bot_message_evt) if sio is not None else None


def _verified_claims(token: Any, settings: Settings) -> dict[str, Any] | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        return customer_area.decode(token, settings)
    except customer_area.InvalidCustomerAreaToken as error:
        logger.info("socket.io connection refused: customer-area token not valid (%s)", error)
        return None


def _malformed(data: Any) -> str | None:
    """Why a user_uttered payload cannot be a customer message, or None."""
    if not isinstance(data, dict):
        return "user_uttered takes an object {message, session_id}"
    message = data.get("message")
    if not isinstance(message, str):
        return "message must be a string"
    if not message.strip():
        return "message is empty"
    return None
