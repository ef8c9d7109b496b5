"""What a Cloud API webhook notification carries: customer messages, delivery statuses, errors.

Parsing only (no I/O). Statuses and errors are read for their codes; a message's `timestamp`
(seconds, the customer's clock as Meta recorded it) orders a customer's messages and starts
the 24-hour window; `metadata.phone_number_id` says which business number was written to. An
image without a caption is the intent `send_photo` (a photo of the meter: "please type the
numbers"); other media without a caption are transcribed for the agent and answered politely."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

# What the agent reads in the transcript for what the assistant does not read (Italian: agents).
MEDIA_LABELS = {
    "image": "immagine",
    "video": "video",
    "audio": "messaggio vocale",
    "document": "documento",
    "sticker": "sticker",
    "contacts": "contatto",
}
CAPTIONED = ("image", "video", "document")
# An image without a caption reaches the assistant as this intent (domain.yml `send_photo`).
PHOTO_INTENT = "/send_photo"
MAX_NOTE_CHARS = 200


@dataclass
class Inbound:
    message_id: str
    wa_id: str
    # what the assistant receives; None when nothing is for it (media without caption,
    # unsupported types, reactions)
    text: str | None
    kind: str
    metadata: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None  # UTC, naive, from the customer's message
    phone_number_id: str | None = None
    # the line the agent reads in the transcript when `text` does not reach the assistant
    note: str | None = None
    # the title of the button or row the customer tapped, as they saw it
    title: str | None = None

    @property
    def is_reaction(self) -> bool:
        return self.kind == "reaction"


@dataclass
class Problem:
    """A failed delivery status or a webhook-level error: Meta's code and title."""

    wa_id: str | None
    code: int | None
    title: str
    wamid: str | None = None
    source: str = "status"


@dataclass
class Webhook:
    messages: list[Inbound] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)  # wamids Meta reports delivered or read


def _is_number(value: Any) -> bool:
    """A WhatsApp id as Meta sends it: the number's digits, country code first."""
    return isinstance(value, str) and value.isdecimal() and value.isascii() and 0 < len(value) <= 20


def _timestamp(value: Any) -> datetime | None:
    try:
        seconds = int(str(value))
    except ValueError:
        return None
    if not 0 < seconds < 2**33:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _short(value: Any, limit: int = MAX_NOTE_CHARS) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _content(message: dict[str, Any]) -> dict[str, Any]:
    """text, note, title and extra metadata of one message, by its type."""
    kind = message.get("type")
    if kind == "text":
        return {"text": (message.get("text") or {}).get("body")}
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return {"text": reply.get("id") or reply.get("title"), "title": reply.get("title")}
    if kind == "button":  # quick reply of a template
        button = message.get("button") or {}
        return {"text": button.get("payload") or button.get("text"), "title": button.get("text")}
    if kind == "location":
        location = message.get("location") or {}
        return {
            "text": "/find_store",
            "title": _short(location.get("name") or location.get("address") or "posizione"),
            "metadata": {"location": {k: location.get(k) for k in ("latitude", "longitude", "name", "address")}},
        }
    if kind == "reaction":
        emoji = (message.get("reaction") or {}).get("emoji")
        note = f"[reazione {_short(emoji, 16)}]" if emoji else "[reazione tolta]"
        return {"text": None, "note": note}
    if kind in MEDIA_LABELS:
        media = message.get(kind) or {}
        caption = media.get("caption") if kind in CAPTIONED else None
        label = MEDIA_LABELS[kind]
        if caption:
            return {"text": caption, "metadata": {"media": kind}}
        if kind == "image":
            # issue 12: usually the meter; the assistant answers asking for the numbers typed
            return {"text": PHOTO_INTENT, "title": f"[{label}]", "metadata": {"media": kind}}
        return {"text": None, "note": f"[{label} senza testo]", "metadata": {"media": kind}}
    return {"text": None, "note": f"[messaggio non supportato: {_short(kind, 40)}]"}


def parse_webhook(payload: Any) -> Webhook:
    """Messages, problems and delivery confirmations of a webhook call, in their order.

    Malformed parts are skipped; a payload that is not a webhook at all raises ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a WhatsApp webhook payload")
    found = Webhook()
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes") or [], list):
            continue
        for change in entry.get("changes") or []:
            value = (change or {}).get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            number = (value.get("metadata") or {}).get("phone_number_id")
            number = str(number) if number is not None else None
            _read_errors(value.get("errors"), None, found, "webhook")
            for status in value.get("statuses") or []:
                _read_status(status, found)
            for message in value.get("messages") or []:
                inbound = _read_message(message, number)
                if inbound is not None:
                    found.messages.append(inbound)
    return found


def _read_message(message: Any, number: str | None) -> Inbound | None:
    if not isinstance(message, dict) or not message.get("id") or not _is_number(message.get("from")):
        return None
    content = _content(message)
    text = content.get("text")
    return Inbound(
        message_id=str(message["id"])[:128],
        wa_id=str(message["from"]),
        text=text if isinstance(text, str) and text else None,
        kind=str(message.get("type"))[:40],
        metadata={"whatsapp_message_id": str(message["id"])[:128], **content.get("metadata", {})},
        timestamp=_timestamp(message.get("timestamp")),
        phone_number_id=number,
        note=content.get("note"),
        title=_short(content["title"], 100) if content.get("title") else None,
    )


def _read_status(status: Any, found: Webhook) -> None:
    if not isinstance(status, dict):
        return
    wamid = str(status.get("id") or "")[:128] or None
    if status.get("status") in ("delivered", "read") and wamid:
        found.delivered.append(wamid)
    elif status.get("status") == "failed":
        recipient = status.get("recipient_id")
        wa_id = recipient if _is_number(recipient) else None
        if not _read_errors(status.get("errors"), wa_id, found, "status", wamid):
            found.problems.append(Problem(wa_id, None, "failed", wamid))


def _read_errors(errors: Any, wa_id: str | None, found: Webhook, source: str, wamid: str | None = None) -> bool:
    if not isinstance(errors, list):
        return False
    for error in errors:
        if isinstance(error, dict):
            code = error.get("code")
            found.problems.append(
                Problem(wa_id, code if isinstance(code, int) else None, _short(error.get("title"), 200), wamid, source)
            )
    return bool(errors)
