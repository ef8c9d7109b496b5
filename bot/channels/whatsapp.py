"""WhatsApp Cloud API channel for Rasa (`whatsapp`: GET|POST /webhooks/whatsapp/webhook).

Inbound: the GET handshake; POSTs are authenticated by `X-Hub-Signature-256` (HMAC-SHA256 of
the raw body with the app secret, compared in constant time) and refused with 403 before
anything is read; the 200 goes back at once and the messages are processed in the background,
each WhatsApp message id once (the support database remembers them, across restarts and
replicas). Text, reply buttons, list replies and locations reach the assistant; status
callbacks are ignored; other types get a polite answer.

Outbound: text; up to 3 buttons as reply buttons, up to 10 as a list, more as numbered text;
retries with backoff on 429 and 5xx, through one HTTP session per process; outside the 24-hour
customer-service window only the approved template (WHATSAPP_TEMPLATE_NAME) is sent.

Conversation ids (issue 10, finding 2): the phone number is not the conversation id. A user's
conversation is "wa:" + HMAC-SHA256(CONVERSATION_ID_SECRET, number) (128 bits, hex): opaque, not
guessable from the number, and no other channel produces a "wa:" id (REST senders cannot hold
':'; socket.io ids are "web:..."). The support database maps the id back to the number for the
replies, so the output sends only to conversations this channel created. The number reaches the
actions only in the message metadata this channel writes ({"whatsapp": {"wa_id": ...}}).
Messages over MAX_MESSAGE_CHARS are answered with a request to shorten them and not processed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.channels import apologise
from bot.channels.limits import bounded
from bot.settings import Settings, get_settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.models import WhatsAppContact, WhatsAppDelivery
from bot.db import session_factory

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)
# Messages processed at the same time by one Rasa process. Processing (NLU, policies, the
# tracker store) shares the event loop with the webhook: bounding it keeps the answer to Meta
# fast during bursts, while a few at once still overlap their waits on the action server and
# the Graph API. Messages beyond the bound wait their turn; none is dropped.
PROCESSING_CONCURRENCY = 4
MAX_REPLY_BUTTONS, MAX_LIST_ROWS = 3, 10
BUTTON_TITLE_MAX, ROW_TITLE_MAX, LIST_BUTTON_MAX = 20, 24, 20
BODY_MAX, TEXT_MAX, ID_MAX = 1024, 4096, 200
UNSUPPORTED_REPLY = (
    "Mi dispiace, per ora leggo solo messaggi scritti, i pulsanti e la posizione. "
    "Può scrivermi la Sua richiesta?"
)
_REQUIRED = {
    "WHATSAPP_VERIFY_TOKEN": "whatsapp_verify_token",
    "WHATSAPP_APP_SECRET": "whatsapp_app_secret",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp_access_token",
    "WHATSAPP_PHONE_NUMBER_ID": "whatsapp_phone_number_id",
}


CONVERSATION_PREFIX = "wa:"
CONVERSATION_HASH_CHARS = 32  # 128 bits of HMAC-SHA256, hex


def conversation_id(secret: str, wa_id: str) -> str:
    """The opaque conversation id of a WhatsApp number (digits, as WhatsApp gives them)."""
    if not secret:
        raise WhatsAppConfigError("CONVERSATION_ID_SECRET is not set")
    digest = hmac.new(secret.encode(), wa_id.lstrip("+").encode(), hashlib.sha256).hexdigest()
    return CONVERSATION_PREFIX + digest[:CONVERSATION_HASH_CHARS]


class WhatsAppConfigError(RuntimeError):
    """The channel is configured in part: say what is missing at start-up."""


@dataclass(frozen=True)
class WhatsAppConfig:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    api_url: str
    template_name: str = ""
    template_language: str = "it"
    conversation_id_secret: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Optional["WhatsAppConfig"]:
        """None when the channel is not configured at all; an error when only in part."""
        values = {env: getattr(settings, attr) for env, attr in _REQUIRED.items()}
        missing = [env for env, value in values.items() if not value]
        if len(missing) == len(values):
            return None
        if missing:
            raise WhatsAppConfigError(
                "WhatsApp channel: missing " + ", ".join(missing) + " (set all of "
                + ", ".join(_REQUIRED) + ", or none to disable the channel)"
            )
        if not settings.conversation_id_secret:
            raise WhatsAppConfigError("WhatsApp channel: CONVERSATION_ID_SECRET is not set (the key of the "
                                      "conversation ids; `make run` generates it)")
        if not settings.whatsapp_api_url.startswith(("http://", "https://")):
            raise WhatsAppConfigError(f"WhatsApp channel: WHATSAPP_API_URL is not a URL: {settings.whatsapp_api_url!r}")
        return cls(
            verify_token=settings.whatsapp_verify_token,
            app_secret=settings.whatsapp_app_secret,
            access_token=settings.whatsapp_access_token,
            phone_number_id=settings.whatsapp_phone_number_id,
            api_url=settings.whatsapp_api_url.rstrip("/"),
            template_name=settings.whatsapp_template_name,
            template_language=settings.whatsapp_template_language,
            conversation_id_secret=settings.conversation_id_secret,
        )


def signature_valid(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """X-Hub-Signature-256 is "sha256=" + hex HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


# --------------------------------------------------------------------------- inbound
@dataclass
class Inbound:
    message_id: str
    wa_id: str
    text: Optional[str]  # what the assistant receives; None for unsupported types
    kind: str
    metadata: Dict[str, Any] = field(default_factory=dict)


def _text_of(message: Dict[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return reply.get("id") or reply.get("title")
    if kind == "button":  # quick reply of a template
        button = message.get("button") or {}
        return button.get("payload") or button.get("text")
    if kind == "location":
        return "/find_store"
    return None


def _is_number(value: Any) -> bool:
    """A WhatsApp id as Meta sends it: the number's digits, country code first."""
    return isinstance(value, str) and value.isdecimal() and value.isascii() and 0 < len(value) <= 20


def parse_webhook(payload: Any) -> List[Inbound]:
    """The user messages of a webhook call, in order; statuses and malformed parts ignored."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a WhatsApp webhook payload")
    found: List[Inbound] = []
    for entry in payload["entry"]:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            for message in value.get("messages") or []:
                if not isinstance(message, dict) or not message.get("id") or not _is_number(message.get("from")):
                    continue
                metadata: Dict[str, Any] = {"whatsapp_message_id": message["id"]}
                if message.get("type") == "location":
                    location = message.get("location") or {}
                    metadata["location"] = {k: location.get(k) for k in ("latitude", "longitude", "name", "address")}
                found.append(Inbound(str(message["id"]), str(message["from"]), _text_of(message),
                                     str(message.get("type")), metadata))
    return found


class DeliveryStore:
    """WhatsApp state in the support database (blocking: call through `asyncio.to_thread`)."""

    def __init__(self, url: Optional[str] = None) -> None:
        upgrade_schema(url)
        self._sessions = session_factory(make_engine(url))

    def first_delivery(self, message_id: str) -> bool:
        with self._sessions() as session:
            session.add(WhatsAppDelivery(message_id=message_id, received_at=_utcnow()))
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def touch(self, wa_id: str, conversation: str) -> None:
        """`wa_id` wrote now, to the conversation `conversation`."""
        with self._sessions() as session, session.begin():
            contact = session.get(WhatsAppContact, wa_id) or WhatsAppContact(wa_id=wa_id)
            contact.last_inbound_at = _utcnow()
            contact.conversation_id = conversation
            session.add(contact)

    def recipient(self, conversation: str) -> Optional[Tuple[str, Optional[datetime]]]:
        """The number of a conversation this channel created, and when it last wrote."""
        with self._sessions() as session:
            contact = session.execute(select(WhatsAppContact).where(
                WhatsAppContact.conversation_id == conversation)).scalar_one_or_none()
            return (contact.wa_id, contact.last_inbound_at) if contact else None

    def remember_options(self, conversation: str, payloads: Optional[List[str]]) -> None:
        with self._sessions() as session, session.begin():
            contact = session.execute(select(WhatsAppContact).where(
                WhatsAppContact.conversation_id == conversation)).scalar_one_or_none()
            if contact is not None:
                contact.numbered_options = payloads

    def numbered_choice(self, wa_id: str, text: str) -> Optional[str]:
        """The payload behind "2" when the last message offered numbered options."""
        choice = text.strip()
        if not (choice.isdecimal() and len(choice) <= 2):  # isdigit() admits "²", which int() refuses
            return None
        with self._sessions() as session:
            contact = session.get(WhatsAppContact, wa_id)
            options = contact.numbered_options if contact else None
        index = int(choice) - 1
        return options[index] if options and 0 <= index < len(options) else None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --------------------------------------------------------------------------- outbound
class GraphError(RuntimeError):
    pass


class GraphClient:
    """POST /{phone-number-id}/messages, with retries on 429, 5xx and network errors.

    One aiohttp session for every message (aiohttp's advice: a session per message opens a
    connection pool, and a TLS handshake with Meta, for each reply), created on the event loop
    that first sends and closed with the server (`close`)."""

    def __init__(self, config: WhatsAppConfig, attempts: int = 4, backoff: float = 0.5) -> None:
        self.config, self.attempts, self.backoff = config, attempts, backoff
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # a session belongs to its event loop: a new loop (a test's asyncio.run) needs its own
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15, connect=5))
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def send(self, message: Dict[str, Any]) -> Dict[str, Any]:
        url = f"{self.config.api_url}/{self.config.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        for attempt in range(1, self.attempts + 1):
            retry_after: Optional[float] = None
            try:
                async with self._current_session().post(url, json=body, headers=headers) as reply:
                    if reply.status < 300:
                        return await reply.json(content_type=None)
                    if reply.status != 429 and reply.status < 500:
                        raise GraphError(f"Graph API refused the message: HTTP {reply.status}")
                    retry_after = _seconds(reply.headers.get("Retry-After"))
                    failure = f"HTTP {reply.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                failure = type(error).__name__
            if attempt < self.attempts:
                await asyncio.sleep(min(retry_after or self.backoff * 2 ** (attempt - 1), 30))
        raise GraphError(f"Graph API unavailable after {self.attempts} attempts ({failure})")


def _seconds(value: Optional[str]) -> Optional[float]:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WhatsAppOutput(OutputChannel):
    """Sends the assistant's answers to one WhatsApp user."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, config: WhatsAppConfig, graph: GraphClient, store: DeliveryStore) -> None:
        self.config, self.graph, self.store = config, graph, store

    async def _send(self, conversation: str, message: Dict[str, Any]) -> None:
        """`conversation` is Rasa's sender id: a "wa:" id this channel created, or nobody."""
        found = await asyncio.to_thread(self.store.recipient, conversation) \
            if conversation.startswith(CONVERSATION_PREFIX) else None
        if found is None:
            # another channel's conversation (or an erased one): never guess a number
            logger.warning("WhatsApp: no WhatsApp user for this conversation; message not sent")
            return
        wa_id, last = found
        if last is None or _utcnow() - last >= SERVICE_WINDOW:
            # Outside the 24-hour window WhatsApp accepts only approved templates.
            if not self.config.template_name:
                logger.warning("WhatsApp: window closed and no WHATSAPP_TEMPLATE_NAME; message not sent")
                return
            message = {"type": "template", "template": {"name": self.config.template_name,
                                                        "language": {"code": self.config.template_language}}}
        await self.graph.send({"to": wa_id, **message})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for start in range(0, len(text), TEXT_MAX):
            await self._send(recipient_id, {"type": "text",
                                            "text": {"preview_url": False, "body": text[start:start + TEXT_MAX]}})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        choices = [(str(b.get("title", "")), str(b.get("payload") or b.get("title", ""))) for b in buttons]
        if len(text) > BODY_MAX and len(choices) <= MAX_LIST_ROWS:
            await self.send_text_message(recipient_id, text)
            text = "Scelga un'opzione:"
        if len(choices) <= MAX_REPLY_BUTTONS:
            action = {"buttons": [{"type": "reply", "reply": {"id": payload[:ID_MAX], "title": _cut(title, BUTTON_TITLE_MAX)}}
                                  for title, payload in choices]}
            await self._send(recipient_id, {"type": "interactive", "interactive": {
                "type": "button", "body": {"text": text}, "action": action}})
        elif len(choices) <= MAX_LIST_ROWS:
            rows = [{"id": payload[:ID_MAX], "title": _cut(title, ROW_TITLE_MAX)} for title, payload in choices]
            await self._send(recipient_id, {"type": "interactive", "interactive": {
                "type": "list", "body": {"text": text},
                "action": {"button": _cut("Scegli", LIST_BUTTON_MAX), "sections": [{"title": "Opzioni", "rows": rows}]}}})
        else:
            numbered = "\n".join(f"{i}. {title}" for i, (title, _) in enumerate(choices, start=1))
            await asyncio.to_thread(self.store.remember_options, recipient_id, [p for _, p in choices])
            await self.send_text_message(recipient_id, f"{text}\n{numbered}\nRisponda con il numero.")

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """An agent's turn from the console (custom payload under `data`): plain text, signed."""
        turn = json_message.get("data") or {}
        if turn.get("sender") == "agent" and turn.get("text"):
            name = turn.get("agent_name") or "Operatore"
            await self.send_text_message(recipient_id, f"{name} (operatore): {turn['text']}")

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"type": "image", "image": {"link": image}})


# --------------------------------------------------------------------------- the channel
class WhatsAppInput(InputChannel):
    """Rasa input channel `whatsapp` (credentials.yml: `bot.channels.whatsapp.WhatsAppInput:`)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WhatsAppInput":
        return cls(WhatsAppConfig.from_settings(get_settings()))

    def __init__(self, config: Optional[WhatsAppConfig]) -> None:
        self.config = config
        if config is None:
            logger.info("WhatsApp channel disabled: no WHATSAPP_* variables set")
            self.store = None
            return
        self.store = DeliveryStore()
        self.graph = GraphClient(config)
        self._processing: Optional[asyncio.Semaphore] = None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WhatsAppOutput(self.config, self.graph, self.store) if self.config else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("whatsapp_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok" if self.config else "disabled"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> response.HTTPResponse:
            if self.config is None:
                return response.json({"error": "WhatsApp channel not configured"}, status=503)
            token = request.args.get("hub.verify_token", "")
            # bytes: compare_digest refuses non-ASCII str (a TypeError, then a 500)
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                    token.encode("utf-8", "surrogateescape"), self.config.verify_token.encode()):
                return response.text(request.args.get("hub.challenge", ""))
            return response.json({"error": "verification failed"}, status=403)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            if self.config is None:
                return response.json({"error": "WhatsApp channel not configured"}, status=503)
            body = request.body or b""
            if not signature_valid(self.config.app_secret, body, request.headers.get("X-Hub-Signature-256")):
                return response.json({"error": "invalid signature"}, status=403)
            try:
                messages = parse_webhook(json.loads(body))
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "malformed payload"}, status=400)
            if messages:
                request.app.add_task(self._process(messages, on_new_message))
            return response.json({"status": "received"})

        @hook.listener("after_server_stop")
        async def close_graph_session(*_: Any) -> None:
            if self.config is not None:
                await self.graph.close()

        return hook

    async def _process(self, messages: List[Inbound], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if self._processing is None:  # created on the server's event loop
            self._processing = asyncio.Semaphore(PROCESSING_CONCURRENCY)
        async with self._processing:
            await self._process_batch(messages, on_new_message)

    async def _process_batch(self, messages: List[Inbound],
                             on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        output = self.get_output_channel()
        handle = bounded(on_new_message)
        for message in messages:
            conversation = conversation_id(self.config.conversation_id_secret, message.wa_id)
            try:
                if not await asyncio.to_thread(self.store.first_delivery, message.message_id):
                    continue  # a redelivery: processed already
                await asyncio.to_thread(self.store.touch, message.wa_id, conversation)
                if message.text is None:
                    await output.send_text_message(conversation, UNSUPPORTED_REPLY)
                    continue
                text = await asyncio.to_thread(self.store.numbered_choice, message.wa_id, message.text) or message.text
                # the number only here, written by this channel: what the actions may trust
                metadata = {**message.metadata, "whatsapp": {"wa_id": message.wa_id}}
                await handle(UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata))
            except Exception as error:  # noqa: BLE001 - one bad message must not stop the batch
                # no message text, no phone number: only what kind of failure
                logger.error("WhatsApp message of type %s not processed: %s", message.kind, type(error).__name__)
                # Meta has had its 200 and will not redeliver: ask the customer to resend
                await apologise(output, conversation, logger)
