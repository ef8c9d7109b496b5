"""The size cap on customer messages, the same for every channel (REST, socket.io, WhatsApp).

A message longer than `MAX_MESSAGE_CHARS` never reaches Rasa: the customer gets TOO_LONG_REPLY
through the channel's own output and nothing is stored (no tracker event, no NLU run). Without
the cap, a few 1 MB messages stalled the Rasa server for other customers and each was stored as
a multi-megabyte tracker row (issue 10, finding 5). Request bodies are capped separately, with
413, by Sanic's REQUEST_MAX_SIZE (bot/rasa_main.py) and nginx.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels import TOO_LONG_REPLY
from bot.settings import get_settings

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]


def too_long(text: str | None, limit: int | None = None) -> bool:
    """Whether `text` is over the cap (`limit`, default the MAX_MESSAGE_CHARS setting)."""
    return text is not None and len(text) > (get_settings().max_message_chars if limit is None else limit)


def bounded(on_new_message: Handler, limit: int | None = None) -> Handler:
    """`on_new_message` for messages within the cap; over it, TOO_LONG_REPLY to the sender instead."""

    async def handle(message: UserMessage) -> Any:
        if too_long(message.text, limit):
            # the length only: the text may hold a codice fiscale or an IBAN
            logger.info(
                "%s message of %d characters refused: over the cap",
                message.input_channel or "unknown channel",
                len(message.text or ""),
            )
            await message.output_channel.send_text_message(message.sender_id, TOO_LONG_REPLY)
            return None
        return await on_new_message(message)

    return handle
