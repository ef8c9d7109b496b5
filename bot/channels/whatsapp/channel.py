"""The Rasa input channel `whatsapp`: GET|POST /webhooks/whatsapp/webhook.

A POST is authenticated by `X-Hub-Signature-256` and refused with 403 before anything is read.
Each message id is recorded once (atomically, in the support database) before the 200 goes
back, so a redelivery is never processed twice and a database failure gets a 503 that Meta
retries. Messages for a business number that is not configured are ignored (logged): Meta
retries any non-200 for days. The messages then go to their customer's ordered queue
(ordering.py); statuses and errors are recorded for the console.

Processing one message: the customer's timestamp reopens the window, messages waiting for
that are delivered first, the message is marked read (with the typing indicator when a reply
will follow), then it reaches the assistant. Reactions are not answered; reactions, media
without a caption and unsupported types are written to the conversation's transcript (the
latter two with a polite answer), so the agent sees everything the customer sent."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels import WHATSAPP_UNSUPPORTED_REPLY, apologise
from bot.channels.limits import bounded
from bot.channels.whatsapp.config import WhatsAppConfig, conversation_id, signature_valid
from bot.channels.whatsapp.graph import GraphClient
from bot.channels.whatsapp.inbound import Inbound, Webhook, parse_webhook
from bot.channels.whatsapp.ordering import CustomerQueues
from bot.channels.whatsapp.output import SERVICE_WINDOW, WhatsAppOutput
from bot.channels.whatsapp.store import DeliveryStore, utcnow
from bot.settings import get_settings

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]
# Messages processed at the same time by one Rasa process, across customers. Processing (NLU,
# policies, the tracker store) shares the event loop with the webhook: bounding it keeps the
# answer to Meta fast during bursts, while a few at once still overlap their waits on the
# action server and the Graph API. Messages beyond the bound wait their turn; none is dropped.
PROCESSING_CONCURRENCY = 4


class WhatsAppInput(InputChannel):
    """Rasa input channel `whatsapp` (credentials.yml: `bot.channels.whatsapp.WhatsAppInput:`)."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        config = WhatsAppConfig.from_settings(get_settings())
        if config is not None:
            config.report()
        return cls(config)

    def __init__(self, config: WhatsAppConfig | None) -> None:
        self.config = config
        self.store: DeliveryStore | None = None
        self._agent: Any = None
        self._queues: CustomerQueues | None = None
        self._on_new_message: Handler | None = None
        if config is None:
            logger.info("WhatsApp channel disabled: no WHATSAPP_* variables set")
            return
        self.store = DeliveryStore()
        self.graph = GraphClient(config)

    def get_output_channel(self) -> OutputChannel | None:
        if self.config is None or self.store is None:
            return None
        return WhatsAppOutput(self.config, self.graph, self.store)

    def queues(self, on_new_message: Handler) -> CustomerQueues:
        if self._queues is None or self._on_new_message is not on_new_message:
            self._on_new_message = on_new_message
            wait = self.config.order_wait if self.config else 0.0
            self._queues = CustomerQueues(lambda m: self.process(m, on_new_message), wait, PROCESSING_CONCURRENCY)
        return self._queues

    def blueprint(self, on_new_message: Handler) -> Blueprint:
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
                token.encode("utf-8", "surrogateescape"), self.config.verify_token.encode()
            ):
                return response.text(request.args.get("hub.challenge", ""))
            return response.json({"error": "verification failed"}, status=403)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> response.HTTPResponse:
            if self.config is None or self.store is None:
                return response.json({"error": "WhatsApp channel not configured"}, status=503)
            body = request.body or b""
            if not signature_valid(self.config.app_secret, body, request.headers.get("X-Hub-Signature-256")):
                return response.json({"error": "invalid signature"}, status=403)
            try:
                webhook = parse_webhook(json.loads(body))
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "malformed payload"}, status=400)
            self._agent = getattr(request.app.ctx, "agent", None)
            queues = self.queues(on_new_message)
            try:
                for message in webhook.messages:
                    if not self.config.answers_for(message.phone_number_id):
                        # no number: Meta's metadata names the business number in every notification
                        logger.warning(
                            "WhatsApp: a message to business number %s, not configured here: ignored",
                            message.phone_number_id,
                        )
                        continue
                    if await asyncio.to_thread(self.store.first_delivery, message.message_id):
                        queues.put(message)
            except Exception as error:  # noqa: BLE001 - the support database is down: Meta retries a 503
                logger.error("WhatsApp: webhook not recorded: %s", type(error).__name__)
                return response.json({"error": "temporarily unavailable"}, status=503)
            if webhook.problems or webhook.delivered:
                request.app.add_task(self.statuses(webhook))
            return response.json({"status": "received"})

        @hook.listener("after_server_stop")
        async def close_graph_session(*_: Any) -> None:
            if self.config is not None:
                await self.graph.close()

        return hook

    async def process(self, message: Inbound, on_new_message: Handler) -> None:
        """One customer message, its predecessors done (called by the customer's queue)."""
        assert self.config is not None and self.store is not None
        output = WhatsAppOutput(self.config, self.graph, self.store)
        conversation = conversation_id(self.config.conversation_id_secret, message.wa_id)
        try:
            await asyncio.to_thread(
                self.store.touch, message.wa_id, conversation, message.timestamp, message.phone_number_id
            )
            await output.flush(conversation)
            if message.is_reaction:
                await self._transcribe(conversation, output, message)
                return
            fresh = message.timestamp is None or utcnow() - message.timestamp < SERVICE_WINDOW
            await self.graph.mark_read(message.message_id, message.phone_number_id, typing=fresh)
            if message.text is None:
                await self._transcribe(conversation, output, message, WHATSAPP_UNSUPPORTED_REPLY)
                await output.send_text_message(conversation, WHATSAPP_UNSUPPORTED_REPLY)
                return
            text, title = message.text, message.title
            choice = await asyncio.to_thread(self.store.numbered_choice, message.wa_id, message.text)
            if choice:
                text, title = choice[0], choice[1] or message.text
            # the number only here, written by this channel: what the actions may trust
            whatsapp: dict[str, Any] = {"wa_id": message.wa_id, "type": message.kind}
            if title:
                whatsapp["title"] = title  # what the customer tapped, as they saw it
            metadata = {**message.metadata, "whatsapp": whatsapp}
            await bounded(on_new_message)(
                UserMessage(
                    text,
                    output,
                    conversation,
                    input_channel=self.name(),
                    metadata=metadata,
                    message_id=message.message_id,
                )
            )
        except Exception as error:  # noqa: BLE001 - one bad message must not stop the customer's queue
            # no message text, no phone number: only what kind of failure
            logger.error("WhatsApp message of type %s not processed: %s", message.kind, type(error).__name__)
            await apologise(output, conversation, logger)

    async def _transcribe(
        self, conversation: str, output: OutputChannel, message: Inbound, reply: str | None = None
    ) -> None:
        """Write what the assistant does not read into the conversation's tracker, so the
        agent sees it: a customer turn without intent (no prediction follows it; the next
        customer message takes its place as the latest) and the channel's own answer."""
        agent = self._agent
        if agent is None or getattr(agent, "processor", None) is None or not message.note:
            return
        metadata = {**message.metadata, "whatsapp": {"wa_id": message.wa_id, "type": message.kind}}
        async with agent.lock_store.lock(conversation):
            tracker = await agent.processor.fetch_tracker_and_update_session(conversation, output, metadata)
            tracker.update(
                UserUttered(message.note, input_channel=self.name(), message_id=message.message_id, metadata=metadata)
            )
            if reply:
                tracker.update(BotUttered(reply))
            await agent.processor.save_tracker(tracker)

    async def statuses(self, webhook: Webhook) -> None:
        """Record Meta's delivery reports: bodies of delivered messages dropped, failures
        logged (codes only) and kept for the console, a message failed for the closed window
        held again and announced by the template."""
        assert self.config is not None and self.store is not None
        store, output = self.store, WhatsAppOutput(self.config, self.graph, self.store)
        try:
            await asyncio.to_thread(store.delivered, webhook.delivered)
            for problem in webhook.problems:
                conversation = await asyncio.to_thread(store.conversation_of, problem.wa_id) if problem.wa_id else None
                logger.error(
                    "WhatsApp: Meta reports a %s error: code=%s (%s)",
                    problem.source,
                    problem.code,
                    problem.title or "no title",
                )
                await asyncio.to_thread(
                    store.problem, conversation, problem.source, None, problem.code, None, problem.title
                )
                if not problem.wamid:
                    continue
                held = await asyncio.to_thread(store.hold_again, problem.wamid) if problem.code == 131047 else None
                if held is None:
                    await asyncio.to_thread(store.failed, problem.wamid)
                    continue
                contact = await asyncio.to_thread(store.recipient, held[0])
                if contact is not None:
                    await output.announce(held[0], contact, held[1])
        except Exception as error:  # noqa: BLE001 - statuses are informative: never fail the server
            logger.error("WhatsApp: statuses not recorded: %s", type(error).__name__)
