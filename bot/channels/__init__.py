"""Channels of the assistant beyond Rasa's built-in ones: WhatsApp Cloud API, and Rasa's REST and
socket.io channels made safe to resend and to fail."""

from __future__ import annotations

import logging
from typing import Any

# What a customer reads when the message could not be processed (a store unreachable).
UNAVAILABLE_REPLY = (
    "Mi scusi, in questo momento non riesco a rispondere per un problema tecnico. Il Suo "
    "messaggio non è andato perso: lo rimandi tra qualche istante."
)
# What a customer reads when the message is longer than MAX_MESSAGE_CHARS (bot/channels/limits.py):
# it is neither processed nor stored, so the customer must know to send it again, shorter.
TOO_LONG_REPLY = (
    "Mi scusi, il Suo messaggio è troppo lungo e non sono riuscito a leggerlo. Può scriverlo "
    "in modo più breve, magari in più messaggi?"
)


# WhatsApp (bot/channels/whatsapp/): what the customer reads around the assistant's own words.
WHATSAPP_UNSUPPORTED_REPLY = (
    "Mi dispiace, per ora leggo solo messaggi scritti, le didascalie delle immagini, i pulsanti e la "
    "posizione. Può scrivermi la Sua richiesta?"
)
WHATSAPP_LIST_BUTTON = "Scelga"
WHATSAPP_LIST_SECTION = "Opzioni"
WHATSAPP_CHOOSE_PROMPT = "Scelga un'opzione:"
WHATSAPP_NUMBER_PROMPT = "Risponda con il numero."
WHATSAPP_AGENT_SIGNATURE = "{name} (operatore): {text}"
WHATSAPP_AGENT_DEFAULT_NAME = "Operatore"
# Issue 12: a bill's PDF could not be fetched or uploaded to Meta (the link expired, a service down).
WHATSAPP_DOCUMENT_FAILED = (
    "Mi scusi, non sono riuscito a inviarLe la bolletta in PDF. Me la chieda di nuovo tra qualche "
    "minuto, oppure la scarichi dall'Area Clienti."
)
# The parameter of the re-engagement template when the waiting message has no text of its own.
WHATSAPP_TEMPLATE_NOTICE = "Le abbiamo risposto: risponda a questo messaggio per leggere la risposta."


async def apologise(output: Any, recipient_id: str, logger: logging.Logger) -> None:
    """Send UNAVAILABLE_REPLY through a channel's output; a failure is logged (its type only), not raised."""
    try:
        await output.send_text_message(recipient_id, UNAVAILABLE_REPLY)
    except Exception as error:  # noqa: BLE001 - nothing more can be done for this message
        logger.error("apology not sent: %s", type(error).__name__)
