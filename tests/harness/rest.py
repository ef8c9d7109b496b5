"""Talking to the assistant as a REST channel client does (bot/channels/rest.py): one `say()`.

The REST channel is server-to-server: every request carries `Authorization: Bearer
$REST_CHANNEL_TOKEN`. Every service a test starts gets the secrets below explicitly, so the
launchers never generate others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import requests

REST_TOKEN = "test-rest-channel-token"
CONVERSATION_ID_SECRET = "test-conversation-id-secret"
TEST_SECRETS = {"REST_CHANNEL_TOKEN": REST_TOKEN, "CONVERSATION_ID_SECRET": CONVERSATION_ID_SECRET}

WEBHOOK = "/webhooks/rest/webhook"


def rest_headers(token: str = REST_TOKEN) -> dict[str, str]:
    """What a REST channel client sends."""
    return {"Authorization": f"Bearer {token}"}


def post_rest(
    base_url: str,
    body: Any,
    *,
    token: str = REST_TOKEN,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> requests.Response:
    """One request to the REST channel, answer unchecked (for tests of what it refuses).
    `headers` replaces the token's, to send none or a wrong one."""
    sent = rest_headers(token) if headers is None else dict(headers)
    return requests.post(base_url + WEBHOOK, json=body, headers=sent, timeout=timeout)


def say(
    base_url: str,
    sender: str,
    message: str,
    *,
    token: str = REST_TOKEN,
    message_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    retry_on_502: bool = False,
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """Send `message` as `sender` to the assistant at `base_url` (Rasa, or nginx in front of the
    replicas); the bot's messages. A 4xx/5xx raises. `retry_on_502`: send it once more if the
    load balancer answers 502 (a replica killed by the test), as a chat client would."""
    body: dict[str, Any] = {"sender": sender, "message": message}
    if message_id is not None:
        body["message_id"] = message_id
    if metadata is not None:
        body["metadata"] = dict(metadata)
    answer = post_rest(base_url, body, token=token, timeout=timeout)
    if retry_on_502 and answer.status_code == 502:
        answer = post_rest(base_url, body, token=token, timeout=timeout)
    answer.raise_for_status()
    replies: list[dict[str, Any]] = answer.json()
    return replies


def texts(replies: Iterable[Mapping[str, Any]]) -> str:
    """The bot's texts, one after the other."""
    return " ".join(reply.get("text") or "" for reply in replies)
