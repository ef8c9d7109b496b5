"""Sending to a WhatsApp customer: the formats (text, reply buttons, lists, numbered options),
the 24-hour window, and messages that wait.

Inside the window a message goes out at once. Outside it (from the customer's own timestamp
of their last message), or when Meta answers 131047, the message is kept in full and ONE
re-engagement template is sent, its body parameter carrying the start of the message; every
kept message is delivered, in order, as soon as the customer writes again. A message Meta
refuses for another reason (after the retries of GraphClient) is kept the same way, so a reply
is always delivered or visibly waiting (the console shows both), never dropped. No send ever
raises into Rasa: an exception there would lose the customer's turn from the tracker."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from datetime import timedelta
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.billing.client import BillingClient, BillingError
from bot.channels import (
    WHATSAPP_AGENT_DEFAULT_NAME,
    WHATSAPP_AGENT_SIGNATURE,
    WHATSAPP_CHOOSE_PROMPT,
    WHATSAPP_DOCUMENT_FAILED,
    WHATSAPP_LIST_BUTTON,
    WHATSAPP_LIST_SECTION,
    WHATSAPP_NUMBER_PROMPT,
    WHATSAPP_TEMPLATE_NOTICE,
)
from bot.channels.whatsapp.config import CONVERSATION_PREFIX, WhatsAppConfig
from bot.channels.whatsapp.graph import GraphClient, GraphError
from bot.channels.whatsapp.store import Contact, DeliveryStore, utcnow

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)
MAX_REPLY_BUTTONS, MAX_LIST_ROWS = 3, 10
BUTTON_TITLE_MAX, ROW_TITLE_MAX, ROW_DESCRIPTION_MAX, LIST_BUTTON_MAX = 20, 24, 72, 20
BODY_MAX, TEXT_MAX, ID_MAX = 1024, 4096, 200
CAPTION_MAX = 1024  # a media caption (the Cloud API's documented limit)
SAFE_FILENAME = re.compile(r"[A-Za-z0-9._-]{1,96}\.pdf")
# Meta refuses template parameters with new lines or long runs of spaces; the template's own
# text and its parameter must stay within the 1,024 characters of a template body
TEMPLATE_PARAMETER_MAX = 600


@functools.lru_cache(maxsize=1)
def billing() -> BillingClient:
    """The Rasa process's billing client: only to fetch a bill's PDF by its download link."""
    return BillingClient.from_settings()


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending at a word when one is close, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip(" ,.;:") + "…"


def list_row(title: str, payload: str) -> dict[str, str]:
    """A list row: a title that fits, the whole title as the description when it does not."""
    row = {"id": payload[:ID_MAX], "title": cut(title, ROW_TITLE_MAX)}
    if len(title) > ROW_TITLE_MAX:
        row["description"] = cut(title, ROW_DESCRIPTION_MAX)
    return row


def window_open(contact: Contact) -> bool:
    return contact.last_inbound_at is not None and utcnow() - contact.last_inbound_at < SERVICE_WINDOW


def text_of(message: dict[str, Any]) -> str:
    """What a message says, for the template's parameter."""
    if message.get("type") == "text":
        return str((message.get("text") or {}).get("body") or "")
    if message.get("type") == "interactive":
        return str(((message.get("interactive") or {}).get("body") or {}).get("text") or "")
    if message.get("type") == "document":
        return str((message.get("document") or {}).get("caption") or "")
    return ""


class WhatsAppOutput(OutputChannel):
    """Sends the assistant's (and the agents') answers to one WhatsApp customer."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, config: WhatsAppConfig, graph: GraphClient, store: DeliveryStore) -> None:
        self.config, self.graph, self.store = config, graph, store

    async def _contact(self, conversation: str) -> Contact | None:
        """`conversation` is Rasa's sender id: a "wa:" id this channel created, or nobody."""
        if not conversation.startswith(CONVERSATION_PREFIX):
            return None
        return await asyncio.to_thread(self.store.recipient, conversation)

    async def _send(self, conversation: str, message: dict[str, Any]) -> None:
        contact = await self._contact(conversation)
        if contact is None:
            # another channel's conversation (or an erased one): never guess a number
            logger.warning("WhatsApp: no WhatsApp user for this conversation; message not sent")
            return
        if not window_open(contact):
            await self._hold(conversation, contact, message, "the 24-hour window is closed")
            return
        await self._deliver(conversation, contact, message)

    async def _deliver(
        self, conversation: str, contact: Contact, message: dict[str, Any], row_id: int | None = None
    ) -> bool:
        """Send now; on a refusal keep the message (or count the attempt) and record the problem."""
        try:
            answer = await self.graph.send(
                {"recipient_type": "individual", "to": contact.wa_id, **message}, contact.phone_number_id
            )
        except GraphError as error:
            await asyncio.to_thread(
                self.store.problem,
                conversation,
                "send",
                error.status,
                error.code,
                error.subcode,
                error.title,
                error.fbtrace_id,
            )
            if row_id is not None:
                await asyncio.to_thread(self.store.not_sent, row_id)
                if error.window_closed:
                    await self.announce(conversation, contact, message)
            else:
                await self._hold(
                    conversation, contact, message, "Meta answered 131047" if error.window_closed else "Meta refused it"
                )
            return False
        wamid = ((answer.get("messages") or [{}])[0] or {}).get("id")
        await asyncio.to_thread(self.store.sent, conversation, message, str(wamid)[:128] if wamid else None, row_id)
        return True

    async def _hold(self, conversation: str, contact: Contact, message: dict[str, Any], why: str) -> None:
        await asyncio.to_thread(self.store.hold, conversation, message)
        logger.warning("WhatsApp: a %s message waits for the customer to write again: %s", message.get("type"), why)
        if why != "Meta refused it":
            await self.announce(conversation, contact, message)

    async def announce(self, conversation: str, contact: Contact, message: dict[str, Any]) -> None:
        """The re-engagement template, once per closed window, carrying the start of `message`."""
        if not self.config.template_name:
            logger.error(
                "WhatsApp: window closed and WHATSAPP_TEMPLATE_NAME not set: the customer is not told "
                "that a reply waits"
            )
            return
        if not await asyncio.to_thread(self.store.claim_template, conversation):
            return  # sent already in this closed window
        parameter = cut(" ".join(text_of(message).split()), TEMPLATE_PARAMETER_MAX) or WHATSAPP_TEMPLATE_NOTICE
        template = {
            "type": "template",
            "template": {
                "name": self.config.template_name,
                "language": {"code": self.config.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": parameter}]}],
            },
        }
        try:
            await self.graph.send(
                {"recipient_type": "individual", "to": contact.wa_id, **template}, contact.phone_number_id
            )
        except GraphError as error:
            await asyncio.to_thread(
                self.store.problem,
                conversation,
                "send",
                error.status,
                error.code,
                error.subcode,
                error.title,
                error.fbtrace_id,
            )
            await asyncio.to_thread(self.store.release_template, conversation)

    async def flush(self, conversation: str) -> int:
        """Deliver, in order, what waited for the customer to write (the window is open again)."""
        waiting = await asyncio.to_thread(self.store.pending, conversation)
        if not waiting:
            return 0
        contact = await self._contact(conversation)
        if contact is None or not window_open(contact):
            return 0
        delivered = 0
        for row_id, message in waiting:
            delivered += await self._deliver(conversation, contact, message, row_id)
        logger.info("WhatsApp: %d of %d waiting messages delivered", delivered, len(waiting))
        return delivered

    # ------------------------------------------------------------------ Rasa's output API
    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for start in range(0, len(text), TEXT_MAX):
            await self._send(
                recipient_id, {"type": "text", "text": {"preview_url": False, "body": text[start : start + TEXT_MAX]}}
            )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        choices: list[tuple[str, str]] = [
            (str(b.get("title", "")), str(b.get("payload") or b.get("title", ""))) for b in buttons
        ]
        if len(text) > BODY_MAX and len(choices) <= MAX_LIST_ROWS:
            await self.send_text_message(recipient_id, text)
            text = WHATSAPP_CHOOSE_PROMPT
        if len(choices) <= MAX_REPLY_BUTTONS:
            action = {
                "buttons": [
                    {"type": "reply", "reply": {"id": payload[:ID_MAX], "title": cut(title, BUTTON_TITLE_MAX)}}
                    for title, payload in choices
                ]
            }
            await self._send(
                recipient_id,
                {"type": "interactive", "interactive": {"type": "button", "body": {"text": text}, "action": action}},
            )
        elif len(choices) <= MAX_LIST_ROWS:
            rows = [list_row(title, payload) for title, payload in choices]
            await self._send(
                recipient_id,
                {
                    "type": "interactive",
                    "interactive": {
                        "type": "list",
                        "body": {"text": text},
                        "action": {
                            "button": cut(WHATSAPP_LIST_BUTTON, LIST_BUTTON_MAX),
                            "sections": [{"title": WHATSAPP_LIST_SECTION, "rows": rows}],
                        },
                    },
                },
            )
        else:
            numbered = "\n".join(f"{i}. {title}" for i, (title, _) in enumerate(choices, start=1))
            await asyncio.to_thread(
                self.store.remember_options, recipient_id, [(payload, title) for title, payload in choices]
            )
            await self.send_text_message(recipient_id, f"{text}\n{numbered}\n{WHATSAPP_NUMBER_PROMPT}")

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """An agent's turn from the console (custom payload under `data`): plain text, signed. A
        bill's PDF (issue 12, `bill_document`): sent as a document message."""
        if isinstance(json_message.get("bill_document"), dict):
            await self.send_bill_document(recipient_id, json_message["bill_document"])
            return
        turn = json_message.get("data") or {}
        if turn.get("sender") == "agent" and turn.get("text"):
            name = turn.get("agent_name") or WHATSAPP_AGENT_DEFAULT_NAME
            await self.send_text_message(recipient_id, WHATSAPP_AGENT_SIGNATURE.format(name=name, text=turn["text"]))

    async def send_bill_document(self, recipient_id: str, document: dict[str, Any]) -> None:
        """Issue 12: the PDF the download link's token stands for (fetched from the billing
        backend, which checks the token), uploaded to Meta (POST /{phone-number-id}/media), then
        a document message naming the media id: Meta never needs to reach our services. If the
        PDF cannot be fetched or uploaded, the customer reads an apology instead."""
        contact = await self._contact(recipient_id)
        if contact is None:
            logger.warning("WhatsApp: no WhatsApp user for this conversation; document not sent")
            return
        token = str(document.get("token") or "")
        filename = str(document.get("filename") or "")
        if not SAFE_FILENAME.fullmatch(filename):
            filename = "bolletta.pdf"
        try:
            pdf = await asyncio.to_thread(billing().bill_download, token)
            media_id = await self.graph.upload_media(pdf, filename, "application/pdf", contact.phone_number_id)
        except (BillingError, GraphError) as error:
            # the code only: the token is a credential for a few minutes
            logger.error("WhatsApp: bill document not sent: %s", getattr(error, "code", type(error).__name__))
            await self.send_text_message(recipient_id, WHATSAPP_DOCUMENT_FAILED)
            return
        body: dict[str, Any] = {"id": media_id, "filename": filename}
        caption = " ".join(str(document.get("caption") or "").split())
        if caption:
            body["caption"] = cut(caption, CAPTION_MAX)
        await self._send(recipient_id, {"type": "document", "document": body})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"type": "image", "image": {"link": image}})
