"""Configuration of the WhatsApp channel, conversation ids and webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from bot.settings import Settings

logger = logging.getLogger(__name__)

_REQUIRED = {
    "WHATSAPP_VERIFY_TOKEN": "whatsapp_verify_token",
    "WHATSAPP_APP_SECRET": "whatsapp_app_secret",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp_access_token",
    "WHATSAPP_PHONE_NUMBER_ID": "whatsapp_phone_number_id",
}

CONVERSATION_PREFIX = "wa:"
CONVERSATION_HASH_CHARS = 32  # 128 bits of HMAC-SHA256, hex


class WhatsAppConfigError(RuntimeError):
    """The channel is configured in part: say what is missing at start-up."""


def conversation_id(secret: str, wa_id: str) -> str:
    """The opaque conversation id of a WhatsApp number (digits, as WhatsApp gives them)."""
    if not secret:
        raise WhatsAppConfigError("CONVERSATION_ID_SECRET is not set")
    digest = hmac.new(secret.encode(), wa_id.lstrip("+").encode(), hashlib.sha256).hexdigest()
    return CONVERSATION_PREFIX + digest[:CONVERSATION_HASH_CHARS]


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 is "sha256=" + hex HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


@dataclass(frozen=True)
class WhatsAppConfig:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str  # the first configured number: the default sender
    api_url: str
    template_name: str = ""
    template_language: str = "it"
    conversation_id_secret: str = ""
    # every business number this deployment answers for (WHATSAPP_PHONE_NUMBER_ID, comma-separated)
    phone_number_ids: tuple[str, ...] = ()
    # seconds a customer's message waits for earlier ones of the same customer still in flight
    order_wait: float = 0.4

    @property
    def numbers(self) -> tuple[str, ...]:
        return self.phone_number_ids or (self.phone_number_id,)

    def answers_for(self, phone_number_id: str | None) -> bool:
        """Whether a webhook's `metadata.phone_number_id` is one of ours (absent: the default)."""
        return phone_number_id is None or phone_number_id in self.numbers

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppConfig | None:
        """None when the channel is not configured at all; an error when only in part."""
        values = {env: getattr(settings, attr) for env, attr in _REQUIRED.items()}
        missing = [env for env, value in values.items() if not value]
        if len(missing) == len(values):
            return None
        if missing:
            raise WhatsAppConfigError(
                "WhatsApp channel: missing "
                + ", ".join(missing)
                + " (set all of "
                + ", ".join(_REQUIRED)
                + ", or none to disable the channel)"
            )
        if not settings.conversation_id_secret:
            raise WhatsAppConfigError(
                "WhatsApp channel: CONVERSATION_ID_SECRET is not set (the key of the "
                "conversation ids; `make run` generates it)"
            )
        if not settings.whatsapp_api_url.startswith(("http://", "https://")):
            raise WhatsAppConfigError(f"WhatsApp channel: WHATSAPP_API_URL is not a URL: {settings.whatsapp_api_url!r}")
        numbers = tuple(n.strip() for n in settings.whatsapp_phone_number_id.split(",") if n.strip())
        if not numbers or not all(n.isdecimal() and n.isascii() for n in numbers):
            raise WhatsAppConfigError("WhatsApp channel: WHATSAPP_PHONE_NUMBER_ID must be digits (comma-separated)")
        return cls(
            verify_token=settings.whatsapp_verify_token,
            app_secret=settings.whatsapp_app_secret,
            access_token=settings.whatsapp_access_token,
            phone_number_id=numbers[0],
            api_url=settings.whatsapp_api_url.rstrip("/"),
            template_name=settings.whatsapp_template_name,
            template_language=settings.whatsapp_template_language,
            conversation_id_secret=settings.conversation_id_secret,
            phone_number_ids=numbers,
            order_wait=settings.whatsapp_order_wait_ms / 1000,
        )

    def report(self) -> None:
        """Say at start what the operator must fix: a missing template loses nothing, but
        replies outside the 24-hour window then wait, unannounced, until the customer writes."""
        if not self.template_name:
            logger.error(
                "WhatsApp channel: WHATSAPP_TEMPLATE_NAME is not set: replies outside the 24-hour "
                "window will wait, without any notice to the customer, until the customer writes again"
            )
        else:
            logger.info(
                "WhatsApp channel: re-engagement template %r (%s), numbers %s",
                self.template_name,
                self.template_language,
                ", ".join(self.numbers),
            )
