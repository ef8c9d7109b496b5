"""The Graph API client: POST /{phone-number-id}/messages and /media, with Meta's errors read and retried.

Meta answers a refused request with an HTTP status and a body
`{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}, "fbtrace_id"}}`.
Its throughput limits come as HTTP 400 with `code` 130429 (the number's throughput), 131056
(too many messages to one customer) or 80007 (the business account's limit): those, HTTP 429,
5xx and network errors are retried with exponential backoff; anything else is final.
Every failure is logged with the HTTP status, code, subcode and fbtrace_id (what Meta's support
asks for), never with the customer's number or the message's text."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.channels.whatsapp.config import WhatsAppConfig

logger = logging.getLogger(__name__)

# and 4, the app-level "too many calls"
RATE_LIMIT_CODES = frozenset({130429, 131056, 80007, 4})
BAD_TOKEN_CODE = 190
# Meta's 131047: more than 24 hours since the customer last wrote (only templates pass)
WINDOW_CLOSED_CODE = 131047
MAX_BACKOFF_SECONDS = 30.0


class GraphError(RuntimeError):
    """Meta refused a request (or could not be reached): what it said, without personal data."""

    def __init__(
        self,
        status: int | None,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        title: str = "",
    ) -> None:
        self.status, self.code, self.subcode, self.fbtrace_id, self.title = status, code, subcode, fbtrace_id, title
        super().__init__(self.describe())

    @property
    def retryable(self) -> bool:
        if self.status is None or self.status == 429 or self.status >= 500:
            return True
        return self.code in RATE_LIMIT_CODES

    @property
    def bad_token(self) -> bool:
        return self.status == 401 or self.code == BAD_TOKEN_CODE

    @property
    def window_closed(self) -> bool:
        return self.code == WINDOW_CLOSED_CODE

    def describe(self) -> str:
        return (
            f"HTTP {self.status if self.status is not None else '-'} code={self.code} "
            f"error_subcode={self.subcode} fbtrace_id={self.fbtrace_id} ({self.title or 'no detail'})"
        )

    @classmethod
    def from_reply(cls, status: int, body: Any) -> GraphError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(status, title="no error body")

        def number(value: Any) -> int | None:
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        # Meta's `message` names the problem ("(#131047) Re-engagement message"); it holds no
        # customer data, but is cut so that a strange reply cannot flood the log
        title = " ".join(str(error.get("message") or error.get("type") or "").split())[:160]
        trace = error.get("fbtrace_id")
        return cls(
            status,
            number(error.get("code")),
            number(error.get("error_subcode")),
            str(trace)[:80] if trace else None,
            title,
        )


class GraphClient:
    """One aiohttp session for every message (aiohttp's advice: a session per message opens a
    connection pool, and a TLS handshake with Meta, for each reply), created on the event loop
    that first sends and closed with the server (`close`)."""

    def __init__(self, config: WhatsAppConfig, attempts: int = 5, backoff: float = 0.5) -> None:
        self.config, self.attempts, self.backoff = config, attempts, backoff
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

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

    async def send(
        self, message: dict[str, Any], phone_number_id: str | None = None, attempts: int | None = None
    ) -> dict[str, Any]:
        """POST a message (or a read receipt) from `phone_number_id`; Meta's answer, or GraphError."""
        body = {"messaging_product": "whatsapp", **message}
        return await self._post("messages", phone_number_id, lambda: {"json": body}, attempts)

    async def upload_media(
        self, content: bytes, filename: str, mime_type: str, phone_number_id: str | None = None
    ) -> str:
        """POST /{phone-number-id}/media (multipart: messaging_product, type, file), as the Cloud
        API documents it; the media id a document message then names (Meta keeps it 30 days)."""

        def form() -> dict[str, Any]:  # a new form per attempt: a sent one is consumed
            data = aiohttp.FormData()
            data.add_field("messaging_product", "whatsapp")
            data.add_field("type", mime_type)
            data.add_field("file", content, filename=filename, content_type=mime_type)
            return {"data": data}

        answer = await self._post("media", phone_number_id, form, None)
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphError(200, title="media upload answered without an id")
        return media_id

    async def _post(
        self,
        edge: str,
        phone_number_id: str | None,
        payload: Callable[[], dict[str, Any]],
        attempts: int | None,
    ) -> dict[str, Any]:
        url = f"{self.config.api_url}/{phone_number_id or self.config.phone_number_id}/{edge}"
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        tries = attempts or self.attempts
        for attempt in range(1, tries + 1):
            retry_after: float | None = None
            try:
                async with self._current_session().post(url, headers=headers, **payload()) as reply:
                    answer = await _json(reply)
                    if reply.status < 300:
                        return answer if isinstance(answer, dict) else {}
                    error = GraphError.from_reply(reply.status, answer)
                    retry_after = _seconds(reply.headers.get("Retry-After"))
            except (aiohttp.ClientError, asyncio.TimeoutError) as failure:
                error = GraphError(None, title=type(failure).__name__)
            if error.bad_token:
                logger.error(
                    "WhatsApp: Meta refused the access token (WHATSAPP_ACCESS_TOKEN invalid or expired): %s",
                    error.describe(),
                )
                raise error
            if not error.retryable or attempt == tries:
                logger.error(
                    "WhatsApp: Graph API refused the request (attempt %d of %d): %s", attempt, tries, error.describe()
                )
                raise error
            delay = min(retry_after or self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            logger.warning("WhatsApp: Graph API busy, retrying in %.1f s: %s", delay, error.describe())
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def mark_read(self, message_id: str, phone_number_id: str | None, typing: bool) -> None:
        """Blue ticks on the customer's message, and the typing indicator while the bot works
        (Meta dismisses it at the reply or after 25 s). Best effort: a failure is only logged."""
        receipt: dict[str, Any] = {"status": "read", "message_id": message_id}
        if typing:
            receipt["typing_indicator"] = {"type": "text"}
        with contextlib.suppress(GraphError):  # logged by send; the message is processed all the same
            await self.send(receipt, phone_number_id, attempts=2)


async def _json(reply: aiohttp.ClientResponse) -> Any:
    try:
        return await reply.json(content_type=None)
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
