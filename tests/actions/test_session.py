"""The session start (actions/session.py): the verified identity goes into the new session while
the customer token lives, and nothing else does; a token that expired, is about to, or is not a
token carries nothing. Through rasa-sdk's executor, as the action server runs it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor

from actions.session import CARRY_MARGIN_S, carried_identity, token_expiry

NOW = 1_800_000_000.0


def token(expires_at: float, **claims: Any) -> str:
    return jwt.encode({"sub": "100001", "exp": int(expires_at), **claims}, "a-secret-the-action-never-sees-at-all")


def previous_session(**slots: Any) -> Tracker:
    values = {
        "customer_code": "100001",
        "customer_name": "Mario Rossi",
        "customer_verified": True,
        "customer_token": token(NOW + 1800),
        "fiscal_code": "RSS***********01U",
        "identity_attempts": 1,
        "phone_lookup_done": True,
        "bill_id": "B1",
        "installment_count": "3",
        "handoff_offered": True,
        "requested_slot": "confirmed",
        **slots,
    }
    return Tracker("s-1", values, {}, [], False, None, {"name": "customer_form"}, "action_listen")


def carried(tracker: Tracker, now: float = NOW) -> dict[str, Any]:
    events = carried_identity(tracker, now=now)
    assert all(e["event"] == "slot" for e in events)
    return {e["name"]: e["value"] for e in events}


def test_a_live_token_carries_the_verified_identity_and_nothing_else() -> None:
    tracker = previous_session()
    assert carried(tracker) == {
        "customer_code": "100001",
        "customer_name": "Mario Rossi",
        "customer_verified": True,
        "customer_token": tracker.get_slot("customer_token"),
        "fiscal_code": "RSS***********01U",
    }


def test_an_expired_or_expiring_token_carries_nothing() -> None:
    assert carried(previous_session(customer_token=token(NOW - 1))) == {}
    assert carried(previous_session(customer_token=token(NOW + CARRY_MARGIN_S - 1))) == {}
    assert carried(previous_session(customer_token=token(NOW + CARRY_MARGIN_S + 5)))["customer_verified"] is True


def test_no_token_a_malformed_one_or_no_verification_carries_nothing() -> None:
    assert carried(previous_session(customer_token=None)) == {}
    assert carried(previous_session(customer_token="not-a-jwt")) == {}  # noqa: S106 - not a secret
    assert carried(previous_session(customer_token="x" * 10_000)) == {}
    no_exp = jwt.encode({"sub": "100001"}, "k" * 32)
    assert token_expiry(no_exp) is None and carried(previous_session(customer_token=no_exp)) == {}
    # a code typed but never verified (the form was left half-way): asked again
    assert carried(previous_session(customer_verified=None)) == {}
    assert carried(previous_session(customer_verified="true")) == {}


def test_the_action_starts_the_session_as_rasa_does_with_the_identity_after_session_started() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    run = executor.actions["action_session_start"]
    live = previous_session(customer_token=token(time.time() + 1800))
    events = asyncio.run(run(None, live, {}))  # type: ignore[arg-type] - it sends no message
    assert events[0]["event"] == "session_started"
    assert events[-1] == {
        "event": "action",
        "name": "action_listen",
        "timestamp": None,
        "policy": None,
        "confidence": None,
    }
    assert {e["name"] for e in events[1:-1]} == {
        "customer_code",
        "customer_name",
        "customer_verified",
        "customer_token",
        "fiscal_code",
    }
    expired = previous_session(customer_token=token(time.time() - 60))
    assert [e["event"] for e in asyncio.run(run(None, expired, {}))] == ["session_started", "action"]  # type: ignore[arg-type]
