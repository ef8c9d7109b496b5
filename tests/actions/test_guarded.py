"""Every action of the action server is `@guarded`: whatever fails inside it, Rasa gets an
apology to show, never an exception (rasa-sdk would answer 500 and echo the whole request,
slots included, into the Rasa server's log, and the customer would be left in silence)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

import actions.common
import actions.handoff
from bot.billing.client import BillingUnavailable
from tests.harness.responses import said

APOLOGY = "problema tecnico"


def registered_actions() -> dict[str, Any]:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor.actions


class FailingOnce(CollectingDispatcher):
    """A dispatcher whose first message of the action's own fails, as anything inside an action
    may; the apology `@guarded` sends goes through."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def utter_message(self, *args: Any, **kwargs: Any) -> None:
        if not self.failed and kwargs.get("response") != "utter_backend_down":
            self.failed = True
            raise RuntimeError("fault inside the action")
        super().utter_message(*args, **kwargs)


class DownBilling:
    """The billing client when the backend is unreachable: every call fails at once (the real
    client's retries would only slow the test)."""

    def __getattr__(self, name: str) -> Any:
        def down(*args: Any, **kwargs: Any) -> Any:
            raise BillingUnavailable("unavailable", "ConnectionError")

        return down


@pytest.fixture
def isolated(monkeypatch):
    """No backend and no support database: the actions that need them fail the way they would
    in production."""
    actions.common.billing.cache_clear()
    monkeypatch.setattr(actions.common.BillingClient, "from_settings", classmethod(lambda cls, *a: DownBilling()))

    def no_desk() -> Any:
        raise RuntimeError("support database unavailable")

    monkeypatch.setattr(actions.handoff, "desk", no_desk)
    yield
    actions.common.billing.cache_clear()


def tracker() -> Tracker:
    latest = {
        "text": "c'è odore di gas",
        "intent": {"name": "report_outage", "confidence": 0.4},
        "intent_ranking": [{"name": "report_outage", "confidence": 0.4}, {"name": "greet", "confidence": 0.3}],
        "entities": [],
    }
    slots = {
        "service": "bills",
        "customer_code": "100001",
        "customer_token": "t",
        "customer_verified": True,
        "bill_id": "B1",
        "installment_count": "3",
        "new_due_date": "2026-12-20",
        "payment_date": "2026-12-20",
    }
    events: list[dict[str, Any]] = [
        {"event": "user", "text": latest["text"], "parse_data": latest, "input_channel": "rest"}
    ]
    return Tracker("unit", slots, latest, events, False, None, {}, "action_listen")


@pytest.mark.parametrize("name", sorted(registered_actions()))
def test_an_action_that_fails_inside_answers_with_an_apology(isolated, name):
    run = registered_actions()[name]
    dispatcher = FailingOnce()
    asyncio.run(run(dispatcher, tracker(), {"forms": {}, "responses": {}}))  # must not raise
    if dispatcher.failed:  # the action reached a message: the customer gets the apology instead
        assert APOLOGY in said(dispatcher.messages)
