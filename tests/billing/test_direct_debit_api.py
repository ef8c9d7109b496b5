"""Billing API of issue 12, direct debit and paperless billing: in-process (seeded SQLite,
business day 2026-11-26) for the rules, the real service on loopback for concurrent
confirmations. Every write is sent more than once: one effect. The IBAN never comes back."""

from __future__ import annotations

import concurrent.futures

import requests
from sqlalchemy import create_engine, select

from bot.billing.models import Customer, DirectDebitMandate
from tests.billing.inprocess import DEMO_IBAN, LAURA, Api, error_code

MARIO_IBAN = "IT60X0542811101000000123456"  # his demo mandate (bot/billing/seed.py)
GIUSEPPE = ("100003", "VRDGPP70C15G702S", "")  # already paperless (giuseppe.verdi@example.it)
LAURA_PATH = "/v1/customers/100002/direct-debit"


def mandates(url: str, customer_code: str) -> list[DirectDebitMandate]:
    with create_engine(url, future=True).connect() as connection:
        query = select(DirectDebitMandate).where(DirectDebitMandate.customer_code == customer_code)
        return list(connection.execute(query.order_by(DirectDebitMandate.id)).all())


def test_marios_active_mandate_is_shown_with_the_iban_masked(api: Api) -> None:
    answer = api.call("GET", "/v1/customers/100001/direct-debit", customer=api.token())
    assert answer.status_code == 200
    mandate = answer.json()["mandate"]
    assert mandate["status"] == "active" and mandate["iban_masked"] == "IT** **** … 3456"
    assert mandate["reference"].startswith("SDD2026-") and mandate["holder_is_customer"]
    assert MARIO_IBAN not in answer.text and "X054" not in answer.text
    laura = api.call("GET", LAURA_PATH, customer=api.token(LAURA))
    assert laura.json() == {"customer_code": "100002", "mandate": None}


def test_a_mandate_is_created_once_and_says_from_which_bill_it_applies(api: Api) -> None:
    token = api.token(LAURA)
    body = {"iban": "it42 l123 4512 3451 2345 6789 012", "holder_name": "BIANCHI Laura"}
    first = api.call("POST", LAURA_PATH, customer=token, body=body, key="dd-1")
    again = api.call("POST", LAURA_PATH, customer=token, body=body, key="dd-1")
    no_key = api.call("POST", LAURA_PATH, customer=token, body=body)
    assert first.status_code == again.status_code == no_key.status_code == 201
    assert again.headers.get("Idempotent-Replay") == "true"
    assert first.json() == again.json() == no_key.json()
    created = first.json()
    # signed on the 26th + 20 days (policy.yml); her last bill was issued on 2026-10-25, bimonthly
    assert created["active_from"] == "2026-12-16" and created["first_debited_bill_on"] == "2026-12-24"
    assert created["open_bills"] == ["F100002-01"] and created["holder_is_customer"]
    assert DEMO_IBAN not in first.text and created["iban_masked"] == "IT** **** … 9012"
    stored = mandates(api.url, "100002")
    assert len(stored) == 1 and stored[0].iban == DEMO_IBAN  # compact, upper case, only here


def test_another_iban_replaces_the_active_mandate(api: Api) -> None:
    token = api.token()
    body = {"iban": DEMO_IBAN, "holder_name": "Mario Rossi"}
    created = api.call("POST", "/v1/customers/100001/direct-debit", customer=token, body=body, key="new")
    assert created.status_code == 201 and created.json()["status"] == "active"
    stored = mandates(api.url, "100001")
    assert [m.status for m in stored] == ["replaced", "active"]
    assert stored[0].active_customer is None and stored[0].revoked_on.isoformat() == "2026-11-26"


def test_a_bad_iban_or_holder_is_refused_with_its_code(api: Api) -> None:
    token = api.token(LAURA)
    refused = {
        "iban_invalid": {"iban": "IT43L1234512345123456789012", "holder_name": "Laura Bianchi"},  # checksum
        "iban_not_sepa": {"iban": "BR1800360305000010009795493C1", "holder_name": "Laura Bianchi"},
        "holder_name_incomplete": {"iban": DEMO_IBAN, "holder_name": "Laura"},
        "holder_fiscal_code_required": {"iban": DEMO_IBAN, "holder_name": "Paolo Bianchi"},
        "holder_fiscal_code_invalid": {
            "iban": DEMO_IBAN,
            "holder_name": "Paolo Bianchi",
            "holder_fiscal_code": "BNCPLA60A01H501X",
        },
    }
    for code, body in refused.items():
        answer = api.call("POST", LAURA_PATH, customer=token, body=body)
        assert answer.status_code == 422 and error_code(answer) == code, (code, answer.text)
    for body in ({"iban": "x" * 43, "holder_name": "Laura Bianchi"}, {"iban": DEMO_IBAN, "holder_name": "L4ura B"}):
        answer = api.call("POST", LAURA_PATH, customer=token, body=body)
        assert answer.status_code == 422 and error_code(answer) == "invalid_request"
    assert mandates(api.url, "100002") == []


def test_a_holder_other_than_the_customer_is_recorded_with_their_fiscal_code(api: Api) -> None:
    body = {"iban": DEMO_IBAN, "holder_name": "Mario Rossi", "holder_fiscal_code": "RSSMRA80A01H501U"}
    answer = api.call("POST", LAURA_PATH, customer=api.token(LAURA), body=body)
    assert answer.status_code == 201 and answer.json()["holder_is_customer"] is False
    assert mandates(api.url, "100002")[0].holder_fiscal_code == "RSSMRA80A01H501U"


def test_a_revocation_is_done_once_and_says_from_when(api: Api) -> None:
    token = api.token()
    first = api.call("DELETE", "/v1/customers/100001/direct-debit", customer=token, key="rv-1")
    again = api.call("DELETE", "/v1/customers/100001/direct-debit", customer=token, key="rv-1")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    revoked = first.json()
    assert revoked["status"] == "revoked" and revoked["not_debited_from"] == "2026-12-01"
    assert revoked["next_bill_after_revocation_on"] == "2027-01-10"
    later = api.call("DELETE", "/v1/customers/100001/direct-debit", customer=token, key="rv-2")
    assert later.status_code == 404 and error_code(later) == "no_mandate"
    assert [m.status for m in mandates(api.url, "100001")] == ["revoked"]


def test_paperless_is_set_once_with_a_valid_address(api: Api) -> None:
    token = api.token()
    path = "/v1/customers/100001/paperless"
    assert api.call("GET", path, customer=token).json()["paperless"] is False
    body = {"email": "Mario.Rossi@GMAIL.com"}
    first = api.call("PUT", path, customer=token, body=body, key="p-1")
    replay = api.call("PUT", path, customer=token, body=body, key="p-1")
    no_key = api.call("PUT", path, customer=token, body=body)
    assert first.status_code == replay.status_code == no_key.status_code == 200
    assert (
        first.json()
        == replay.json()
        == {
            "customer_code": "100001",
            "paperless": True,
            "email_masked": "M***@gmail.com",
            "changed": True,
        }
    )
    assert no_key.json()["changed"] is False  # the same address again changes nothing
    with create_engine(api.url, future=True).connect() as connection:
        stored = connection.execute(select(Customer.email).where(Customer.code == "100001")).scalar_one()
    assert stored == "Mario.Rossi@gmail.com"  # the domain normalised, the local part as written
    for bad in ("mario.rossi@", "mario rossi@gmail.com", "mario@@gmail.com", "a@b", "x" * 250 + "@a.it"):
        answer = api.call("PUT", path, customer=token, body={"email": bad})
        assert answer.status_code == 422 and error_code(answer) in ("email_invalid", "invalid_request"), bad


def test_giuseppes_address_is_shown_masked(api: Api) -> None:
    answer = api.call("GET", "/v1/customers/100003/paperless", customer=api.token(GIUSEPPE))
    assert answer.json() == {
        "customer_code": "100003",
        "paperless": True,
        "email_masked": "g***@example.it",
        "changed": False,
    }


def test_concurrent_confirmations_create_one_mandate(backend) -> None:
    """The real service (uvicorn, SQLite): the same confirmation sent three times at once with
    its key, then four times without one, leave one active mandate."""
    laura = backend.verify("100002", LAURA[1])
    body = {"iban": DEMO_IBAN, "holder_name": "Laura Bianchi"}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        keyed = list(pool.map(lambda _: backend.post(LAURA_PATH, body, laura, key="same-key"), range(3)))
        plain = list(pool.map(lambda _: backend.post(LAURA_PATH, body, laura), range(4)))
    assert {a.status_code for a in keyed} == {201} and len({a.json()["reference"] for a in keyed}) == 1
    # without a key: the same mandate, or a 409 when two inserts met on the one-active constraint
    assert {a.status_code for a in plain} <= {201, 409}
    assert {a.json()["reference"] for a in plain if a.status_code == 201} <= {keyed[0].json()["reference"]}
    current = backend.get(LAURA_PATH, laura).json()["mandate"]
    assert current["reference"] == keyed[0].json()["reference"]
    revoke = [
        requests.delete(
            backend.url + LAURA_PATH, headers=backend.headers(laura, **{"Idempotency-Key": "r"}), timeout=10
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in revoke] == [200, 200] and revoke[0].json() == revoke[1].json()
    assert backend.get(LAURA_PATH, laura).json()["mandate"] is None
    mandates_left = mandates(backend.env["BILLING_DATABASE_URL"], "100002")
    assert [m.status for m in mandates_left] == ["revoked"]


def test_every_customer_route_refuses_another_customer(api: Api) -> None:
    laura = api.token(LAURA)
    for method, body in (("GET", None), ("POST", {"iban": DEMO_IBAN, "holder_name": "Mario Rossi"}), ("DELETE", None)):
        answer = api.call(method, "/v1/customers/100001/direct-debit", customer=laura, body=body, key="x")
        assert answer.status_code == 403 and error_code(answer) == "forbidden"
    answer = api.call("PUT", "/v1/customers/100001/paperless", customer=laura, body={"email": "l@example.it"})
    assert answer.status_code == 403
    assert [m.status for m in mandates(api.url, "100001")] == ["active"]
