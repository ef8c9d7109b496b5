"""A new conversation session keeps the verified customer while their token lives (issue 15, goal 2).

Rasa starts a new session when a customer writes again after `session_expiration_time`
(domain.yml, 30 minutes): the flows of the old session (a half-filled form, a pending
confirmation, the offer of a person) are forgotten, as they should be. Rasa 3.6 carries either
every slot into the new session or none (`carry_over_slots_to_new_session`); this action carries
the verified identity only:

- `customer_code`, `customer_name`, `customer_verified`, `customer_token` and the masked
  `fiscal_code` (the customer form asks nothing of a verified customer);
- only while the customer token is valid for at least CARRY_MARGIN_S more seconds: the token's
  own `exp` (a JWT the billing backend signed for CUSTOMER_TOKEN_MINUTES, 60 by default) decides,
  read here without the signing key — the backend verifies the token again on every call, and a
  token that is not a JWT, has no `exp` or is past it carries nothing;
- nothing else: counters, the WhatsApp number lookup, the supply point, every flow slot start
  again.

So a customer who verified at 10:00, stopped at 10:05 and comes back at 10:40 is in a new session
and still identified; at 11:10 their token has expired and they are asked for their codes again.
The token's lifetime is real time (the backend's clock), not the business clock of bot/clock.py.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import logger

# the slots of a verified identity that a new session keeps
CARRIED_SLOTS = ("customer_code", "customer_name", "customer_verified", "customer_token", "fiscal_code")
# a token about to expire is not carried: the next backend call would refuse it
CARRY_MARGIN_S = 60
MAX_TOKEN_CHARS = 4096


def token_expiry(token: Any) -> float | None:
    """The `exp` of a customer token (seconds since the epoch), None when it has none."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    expiry = claims.get("exp")
    return float(expiry) if isinstance(expiry, (int, float)) and not isinstance(expiry, bool) else None


def carried_identity(tracker: Tracker, now: float | None = None) -> list[dict[str, Any]]:
    """SlotSet events for the verified identity of the previous session, if its token still lives."""
    if tracker.get_slot("customer_verified") is not True:
        return []
    expiry = token_expiry(tracker.get_slot("customer_token"))
    if expiry is None or expiry < (time.time() if now is None else now) + CARRY_MARGIN_S:
        return []
    return [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_SLOTS if tracker.get_slot(name) is not None]


class ActionSessionStart(Action):
    """Rasa's session start (SessionStarted, then action_listen) with the identity carried over."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # not @guarded: its apology and no events would leave the conversation without a session
        # start; whatever fails here costs the customer their carried identity, nothing more
        try:
            carried = carried_identity(tracker)
        except Exception as error:  # noqa: BLE001 - the session must start whatever happens
            logger.error("identity not carried into the new session: %s", type(error).__name__)
            carried = []
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
