"""Actions never fail towards Rasa: an unreachable backend gives the customer an apology."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import ActionExecutor

from actions.common import billing
from bot.settings import get_settings
from tests.harness.responses import said
from tests.harness.processes import free_port


@pytest.fixture
def unreachable_backend(monkeypatch):
    monkeypatch.setenv("BILLING_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("BILLING_API_TOKEN", "x")
    get_settings.cache_clear()
    billing.cache_clear()
    yield
    get_settings.cache_clear()
    billing.cache_clear()


@pytest.mark.parametrize("action", ["action_ask_bill_id", "action_submit_customer_form", "action_bonus_sociale"])
def test_backend_unreachable_gives_an_apology_not_an_error(unreachable_backend, action):
    executor = ActionExecutor()
    executor.register_package("actions")
    slots = {"service": "bills", "customer_code": "100001", "customer_token": "t", "customer_verified": True}
    request = {
        "next_action": action,
        "sender_id": "unit",
        "tracker": {"sender_id": "unit", "slots": slots, "events": [], "paused": False, "followup_action": None,
                    "active_loop": {}, "latest_action_name": None,
                    "latest_message": {"text": "bonus?", "intent": {"name": "ask_bonus_sociale"}, "entities": []}},
        "domain": {"responses": {}},
    }
    response = asyncio.run(executor.run(request))
    text = said(response["responses"])
    assert "problema tecnico" in text and "operatore" in text
