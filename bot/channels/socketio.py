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
- Malformed events get an `error` event with a short reason, never an exception; over-long
  messages get the polite request to shorten them (bot/channels/limits.py); a message that cannot
  be processed gets the apology. Failures are logged without the message text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from bot import customer_area
from bot.channels import apologise
from bot.channels.limits import bounded
from bot.rasa_compat import require
from bot.settings import Settings, get_settings

require("rasa", __name__)

logger = logging.getLogger(__name__)

PREFIX = "web:"
# A signed id is about 70 characters; anything much longer is not one of ours.
MAX_SESSION_ID_CHARS = 128
MAX_TOKEN_CHARS = 4096
ERROR_EVENT = "error"


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

        async def refuse(sid: str, code: str, reason: str) -> None:
            await sio.emit(ERROR_EVENT, {"code": code, "reason": reason}, room=sid, namespace=self.namespace)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin and origin.rstrip("/") not in allowed_origins:
                # a page of another site must not converse in a visitor's name (nor read replies)
                raise ConnectionRefusedError("origin_not_allowed")
            connection = Connection()
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
                    SocketIOOutput(sio, self.bot_message_evt),
                    connection.conversation,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return blueprint


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
