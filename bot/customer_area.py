"""Customer-area tokens: how the utility's website says "this visitor is logged in as customer N".

An HS256 JWT signed with CUSTOMER_AREA_JWT_SECRET, with every claim required: `sub` (customer
code), `exp`, `iat`, `iss` and `aud` (settings). A token issued longer ago than
CUSTOMER_AREA_JWT_MAX_AGE_HOURS is refused whatever its `exp` says, so a token with a far-off
expiry cannot be replayed for days. The socket.io channel checks a token when the widget
connects (bot/channels/socketio.py) and the billing backend checks it again before it stands for
an identity check (`POST /v1/identity/customer-area`): both use `decode` below.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from bot.settings import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]


class InvalidCustomerAreaToken(Exception):
    """The token is not one the customer area signed for this assistant, or it is too old."""


def decode(token: str, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """The claims of a valid token; InvalidCustomerAreaToken otherwise (never another error)."""
    if not settings.customer_area_jwt_secret:
        raise InvalidCustomerAreaToken("customer-area tokens are not configured")
    try:
        claims = jwt.decode(
            token,
            settings.customer_area_jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.customer_area_jwt_audience,
            issuer=settings.customer_area_jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise InvalidCustomerAreaToken(type(error).__name__) from None
    now = now or datetime.now(timezone.utc)
    issued = claims["iat"]
    if not isinstance(issued, (int, float)) or isinstance(issued, bool):
        raise InvalidCustomerAreaToken("iat is not a number")
    # PyJWT refuses an `iat` in the future; the age is bounded here
    if now.timestamp() - issued > settings.customer_area_jwt_max_age_hours * 3600:
        raise InvalidCustomerAreaToken("issued too long ago")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 0 < len(subject) <= 16:
        raise InvalidCustomerAreaToken("sub is not a customer code")
    return claims


def sign(
    customer_code: str, settings: Settings, lifetime: timedelta = timedelta(hours=1), now: datetime | None = None
) -> str:
    """A token as the customer area would sign it (the demo site's login, and tests)."""
    now = now or datetime.now(timezone.utc)
    claims = {
        "sub": customer_code,
        "iat": now,
        "exp": now + lifetime,
        "iss": settings.customer_area_jwt_issuer,
        "aud": settings.customer_area_jwt_audience,
    }
    return jwt.encode(claims, settings.customer_area_jwt_secret, algorithm=ALGORITHM)
