"""WhatsApp Cloud API channel for Rasa (`whatsapp`: GET|POST /webhooks/whatsapp/webhook).

docs/whatsapp.md describes the delivery guarantees, the 24-hour window, the template, the
settings and the error handling. The parts:
- config.py: settings, opaque conversation ids ("wa:" + HMAC of the number), signatures;
- inbound.py: what a webhook carries (messages, statuses, errors), parsed without I/O;
- ordering.py: each customer's messages one at a time, in the customer's order;
- store.py: the support database (ids seen, contacts, waiting messages, Meta's errors);
- graph.py: the Graph API client (Meta's error codes, retries, read receipts);
- output.py: formats, the 24-hour window, messages that wait, the re-engagement template;
- channel.py: the Rasa input channel.
"""

from bot.channels.whatsapp.channel import PROCESSING_CONCURRENCY, WhatsAppInput
from bot.channels.whatsapp.config import (
    CONVERSATION_PREFIX,
    WhatsAppConfig,
    WhatsAppConfigError,
    conversation_id,
    signature_valid,
)
from bot.channels.whatsapp.graph import GraphClient, GraphError
from bot.channels.whatsapp.inbound import Inbound, parse_webhook
from bot.channels.whatsapp.output import SERVICE_WINDOW, WhatsAppOutput
from bot.channels.whatsapp.store import DeliveryStore

__all__ = [
    "CONVERSATION_PREFIX",
    "PROCESSING_CONCURRENCY",
    "SERVICE_WINDOW",
    "DeliveryStore",
    "GraphClient",
    "GraphError",
    "Inbound",
    "WhatsAppConfig",
    "WhatsAppConfigError",
    "WhatsAppInput",
    "WhatsAppOutput",
    "conversation_id",
    "parse_webhook",
    "signature_valid",
]
