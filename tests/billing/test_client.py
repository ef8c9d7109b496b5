"""The one billing client (bot/billing/client.py) against the real backend on loopback: every
change it makes carries the customer token, its body and its Idempotency-Key, so a confirmation
sent twice makes one change and gets the first answer again; a refusal is a BillingError with
the backend's code."""

from __future__ import annotations

from datetime import date

import pytest

from bot.billing.client import BillingClient, BillingError
from tests.billing.conftest import Backend
from tests.billing.inprocess import DEMO_IBAN

MARIO = ("100001", "RSSMRA80A01H501U")
FRANCESCA = ("100006", "RMNFNC90T52A390Z")  # a 90 EUR bill: deferral yes


def client_for(backend: Backend) -> BillingClient:
    return BillingClient(base_url=backend.url, token=backend.token)


def token_of(client: BillingClient, customer: tuple[str, str]) -> str:
    return str(client.verify(*customer)["customer_token"])


def twice(call, *args, **kwargs) -> dict:
    """Sends the same change twice with the same key; both answers must be the first one."""
    first, again = call(*args, **kwargs), call(*args, **kwargs)
    assert first == again
    return first


def test_bill_changes_are_made_once_with_their_key(backend: Backend) -> None:
    client = client_for(backend)
    mario = token_of(client, MARIO)
    bill = client.bills(MARIO[0], mario)[0]["id"]
    plan = twice(client.create_plan, bill, mario, 2, "plan-key")
    assert len(plan["installments"]) == 2 and len(client.plans(MARIO[0], mario)) == 1

    francesca = token_of(client, FRANCESCA)
    small = client.bills(FRANCESCA[0], francesca)[0]
    latest = date.fromisoformat(client.deferral_options(small["id"], francesca)["latest_date"])
    twice(client.create_deferral, small["id"], francesca, latest, "deferral-key")
    moved = client.bills(FRANCESCA[0], francesca)[0]
    assert moved["due_date"] == latest.isoformat() and moved["deferred"] is True
    with pytest.raises(BillingError) as refused:  # a second deferral, under another key
        client.create_deferral(small["id"], francesca, latest, "another-key")
    assert refused.value.status == 409


def test_account_changes_are_made_once_with_their_key(backend: Backend) -> None:
    client = client_for(backend)
    code, mario = MARIO[0], token_of(client, MARIO)

    supply = client.meters(code, mario)[0]
    registers = {name: value + 90 for name, value in supply["last_reading"]["registers"].items()}
    reading = twice(client.submit_reading, supply["supply_id"], mario, registers, False, "reading-key")
    assert reading["consumed"] == 90 * len(registers)

    text = "Mi avete addebitato due volte la bolletta di ottobre."
    complaint = twice(client.file_complaint, code, mario, "fatturazione", text, "complaint-key")
    assert complaint["protocol"].startswith("R")

    mandate = twice(client.create_mandate, code, mario, DEMO_IBAN, "Mario Rossi", "mandate-key")
    active = client.direct_debit(code, mario)
    assert active is not None and active["reference"] == mandate["reference"]
    assert DEMO_IBAN not in str(mandate) and mandate["iban_masked"].endswith("9012")
    revoked = twice(client.revoke_mandate, code, mario, "revoke-key")
    assert revoked["status"] == "revoked" and client.direct_debit(code, mario) is None

    twice(client.set_paperless, code, mario, "mario.rossi@example.it", "paperless-key")
    assert client.paperless(code, mario)["paperless"] is True

    with pytest.raises(BillingError) as refused:
        client.set_paperless(code, mario, "mario.rossi@", "bad-address-key")
    assert refused.value.status == 422
