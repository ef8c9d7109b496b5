"""The customer form's actions in-process, against a fake billing client.

Starting the backend is not the point here: these tests drive `ValidateCustomerForm` and
`ActionSubmitCustomerForm` through the moments where the backend fails or refuses, which a
running backend cannot be made to do on cue.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.common
from actions.customer_form import ActionSubmitCustomerForm, ValidateCustomerForm
from bot.billing.client import BillingError, BillingUnavailable
from tests.harness.responses import said

DOMAIN = {
    "forms": {
        "customer_form": {
            "required_slots": [
                "customer_code",
                "fiscal_code",
                "bill_id",
                "new_due_date",
                "installment_count",
                "payment_date",
                "confirmed",
            ]
        }
    }
}
BILLS = [
    {"id": "B1", "supply": "luce", "amount_cents": 18_240, "due_date": "2026-12-01", "status": "open"},
    {"id": "B2", "supply": "gas", "amount_cents": 82_000, "due_date": "2026-11-14", "status": "open"},
]
VERIFIED = {"customer_code": "100001", "customer_verified": True, "customer_token": "t", "customer_name": "Mario Rossi"}


class FakeBilling:
    """Answers like the backend; `down` lists the calls that find it unreachable, `errors`
    the calls that get an error answer."""

    def __init__(self, down: tuple = (), errors: dict[str, BillingError] | None = None) -> None:
        self.down, self.errors, self.calls = set(down), errors or {}, []

    def _call(self, name: str, result: Any) -> Any:
        self.calls.append(name)
        if name in self.down:
            raise BillingUnavailable("unavailable", "ConnectionError")
        if name in self.errors:
            raise self.errors[name]
        return result

    def bills(self, customer_code: str, customer_token: str, status: str = "open") -> list:
        return self._call("bills", BILLS)

    def customer_by_phone(self, e164: str) -> str | None:
        return self._call("customer_by_phone", "100001")

    def verify_customer_area(self, token: str) -> dict[str, Any]:
        return self._call("verify_customer_area", {})

    def installment_options(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._call(
            "installment_options",
            {
                "eligible": True,
                "reason": None,
                "scheme_label": "Rateizzazione",
                "options": [{"count": 2, "installments": []}, {"count": 3, "installments": []}],
            },
        )

    def deferral_options(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._call("deferral_options", {"eligible": True, "reason": None})

    def late_interest(self, bill_id: str, customer_token: str, paid_on: Any) -> dict[str, Any]:
        return self._call("late_interest", {})

    def create_plan(self, *args: Any) -> dict[str, Any]:
        return self._call("create_plan", {})

    def create_deferral(self, *args: Any) -> dict[str, Any]:
        return self._call("create_deferral", {})


@pytest.fixture
def backend(monkeypatch):
    """Installs a FakeBilling as the action server's one billing client; returns a setter."""

    def install(fake: FakeBilling) -> FakeBilling:
        actions.common.billing.cache_clear()
        monkeypatch.setattr(actions.common.BillingClient, "from_settings", classmethod(lambda cls, *a: fake))
        return fake

    yield install
    actions.common.billing.cache_clear()


def tracker(
    slots: dict[str, Any],
    new_slots: dict[str, Any],
    text: str = "",
    intent: str = "inform",
    channel: str = "rest",
    sender: str = "unit",
    metadata: dict | None = None,
) -> Tracker:
    """A tracker whose latest user message set `new_slots` (the form validates those)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [], "metadata": metadata or {}}
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "customer_form"},
        {"event": "user", "text": text, "parse_data": latest, "input_channel": channel, "metadata": metadata or {}},
    ] + [{"event": "slot", "name": name, "value": value} for name, value in new_slots.items()]
    return Tracker(
        sender, {**slots, **new_slots}, latest, events, False, None, {"name": "customer_form"}, "action_listen"
    )


def run(action: Any, track: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, DOMAIN))
    return events, said(dispatcher.messages, track.slots)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    "slot, value, service, call",
    [
        ("bill_id", "la bolletta del gas", "installments", "bills"),
        ("installment_count", "3", "installments", "installment_options"),
    ],
)
def test_backend_down_during_slot_validation_ends_the_request_as_backend_down(backend, slot, value, service, call):
    # Before the fix `run()` raised UnboundLocalError here (`events` never assigned): the
    # customer got a generic apology, flow_outcome stayed empty and nobody was handed over.
    fake = backend(FakeBilling(down=("bills", "installment_options")))
    slots = {**VERIFIED, "service": service, "bill_id": "B2" if slot != "bill_id" else None}
    events, _ = run(ValidateCustomerForm(), tracker(slots, {slot: value}, text=value))
    assert call in fake.calls
    found = slot_events(events)
    assert found.get("flow_outcome") == "backend_down"
    assert "requested_slot" in found and found["requested_slot"] is None  # the form ends: submit hands over


def test_backend_down_during_the_whatsapp_phone_lookup_ends_the_request_as_backend_down(backend):
    fake = backend(FakeBilling(down=("customer_by_phone",)))
    # the phone is given both ways the channel has carried it (sender id, server-written metadata)
    track = tracker(
        {"service": "bills"},
        {},
        text="vorrei vedere le bollette",
        intent="check_bills",
        channel="whatsapp",
        sender="393331234567",
        metadata={"whatsapp": {"wa_id": "393331234567"}},
    )
    events, _ = run(ValidateCustomerForm(), track)
    assert fake.calls == ["customer_by_phone"]
    found = slot_events(events)
    assert found.get("flow_outcome") == "backend_down" and found.get("requested_slot", "missing") is None


def test_submit_after_backend_down_apologises_and_hands_over(backend):
    backend(FakeBilling())
    events, text = run(ActionSubmitCustomerForm(), tracker({**VERIFIED, "flow_outcome": "backend_down"}, {}))
    assert "problema tecnico" in text
    assert any(e.get("event") == "followup" and e.get("name") == "action_request_human" for e in events)
    assert slot_events(events).get("handoff_reason") == "backend_down"


@pytest.mark.parametrize(
    "code, message, status, service, slots",
    [
        (
            "date_out_of_range",
            "paid_on is out of the supported range.",
            422,
            "interest",
            {"bill_id": "B1", "payment_date": "2040-12-15"},
        ),
        (
            "not_eligible",
            "Bill B1 is not eligible.",
            409,
            "installments",
            {"bill_id": "B1", "installment_count": "3", "confirmed": True},
        ),
        (
            "some_future_code",
            "Something went wrong in English.",
            422,
            "deferral",
            {"bill_id": "B1", "new_due_date": "2026-12-20", "confirmed": True},
        ),
    ],
)
def test_backend_error_messages_never_reach_the_customer(backend, code, message, status, service, slots):
    # "il 15 dicembre 2040" used to be answered with "paid_on is out of the supported range."
    error = BillingError(code, message, status)
    backend(FakeBilling(errors={"late_interest": error, "create_plan": error, "create_deferral": error}))
    events, text = run(ActionSubmitCustomerForm(), tracker({**VERIFIED, "service": service, **slots}, {}))
    assert message not in text
    assert "operatore" in text and text.strip()
    assert slot_events(events).get("handoff_offered") is True


def test_date_out_of_range_is_explained_in_italian(backend):
    backend(
        FakeBilling(
            errors={"late_interest": BillingError("date_out_of_range", "paid_on is out of the supported range.", 422)}
        )
    )
    _, text = run(
        ActionSubmitCustomerForm(),
        tracker({**VERIFIED, "service": "interest", "bill_id": "B1", "payment_date": "2040-12-15"}, {}),
    )
    assert "data" in text.lower() and "range" not in text
