"""Channels of the assistant beyond Rasa's built-in ones: WhatsApp Cloud API, and Rasa's REST and
socket.io channels made safe to resend and to fail."""

from __future__ import annotations

import logging
from typing import Any

# What a customer reads when the message could not be processed (a store unreachable).
UNAVAILABLE_REPLY = ("Mi scusi, in questo momento non riesco a rispondere per un problema tecnico. Il Suo "
                     "messaggio non è andato perso: lo rimandi tra qualche istante.")
# What a customer reads when the message is longer than MAX_MESSAGE_CHARS (bot/channels/limits.py):
# it is neither processed nor stored, so the customer must know to send it again, shorter.
TOO_LONG_REPLY = ("Mi scusi, il Suo messaggio è troppo lungo e non sono riuscito a leggerlo. Può scriverlo "
                  "in modo più breve, magari in più messaggi?")


async def apologise(output: Any, recipient_id: str, logger: logging.Logger) -> None:
    """Send UNAVAILABLE_REPLY through a channel's output; a failure is logged (its type only), not raised."""
    try:
        await output.send_text_message(recipient_id, UNAVAILABLE_REPLY)
    except Exception as error:  # noqa: BLE001 - nothing more can be done for this message
        logger.error("apology not sent: %s", type(error).__name__)
