"""Short-lived signed download links of a bill's PDF (issue 12, bill copy on the website).

A link's token is itsdangerous' timed signature of the bill id, keyed by BILLING_TOKEN_SECRET
with its own salt (so a customer token can never pass for a link, nor a link for a token). It
carries neither the customer token nor the customer code: only the billing backend, which
issued it after checking the customer token, can tell whether it is genuine and fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "bill-download-link"
MAX_TOKEN_CHARS = 200  # a bill id and a signature: anything longer is not one of ours


@dataclass(frozen=True)
class Link:
    token: str
    expires_at: datetime  # UTC


class LinkExpired(Exception):
    """Genuine, but older than its lifetime."""


class LinkInvalid(Exception):
    """Not signed by us (tampered, truncated, made up)."""


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign(bill_id: str, secret: str, minutes: int) -> Link:
    token = _serializer(secret).dumps(bill_id)
    assert isinstance(token, str)
    return Link(token, datetime.now(timezone.utc) + timedelta(minutes=minutes))


def bill_of(token: str, secret: str, minutes: int) -> str:
    """The bill id a genuine, fresh token stands for; LinkInvalid or LinkExpired otherwise.
    The signature is checked first: a token with a forged age is invalid, not expired."""
    if len(token) > MAX_TOKEN_CHARS:
        raise LinkInvalid
    try:
        bill_id = _serializer(secret).loads(token, max_age=minutes * 60)
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    if not isinstance(bill_id, str):
        raise LinkInvalid
    return bill_id
