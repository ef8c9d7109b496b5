"""The billing API in-process (FastAPI's TestClient on `create_app`, a seeded SQLite file):
the routing table and OpenAPI operations, the service and customer tokens on every route,
403 across customers, the identity counters, idempotent replay and expiry, the JSON error codes.

The safety net for splitting the routes into modules (issue 11): the tables below are what the
single-module `create_app` served. tests/billing/test_api.py and tests/security/test_backend.py
cover the same contract against the real uvicorn process (concurrency, PostgreSQL, reseeds).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, update
from starlette.routing import Route

from bot import customer_area
from bot.billing.api import create_app
from bot.billing.models import Deferral, IdempotencyRecord, InstallmentPlan
from tests.billing.inprocess import (
    BUSINESS_DATE,
    LAURA,
    MARIO,
    SERVICE_TOKEN,
    TOKEN_SECRET,
    Api,
    customer_token,
    error_code,
    request_for,
    settings_for,
)

WRONG_FISCAL_CODE = "XXXXXX00X00X000X"

# (method, path) -> operationId, tag, parameters ("in:name"), request body schema: the operations
# of the OpenAPI document as the single-module create_app produced them. Every route but /health
# declares the JSON error body for ERRORS; the POSTs that create answer 201.
ERRORS = ("400", "401", "403", "404", "409", "422", "429")
AUTH = "header:authorization"
CUSTOMER = f"{AUTH} header:x-customer-token"
# fmt: off
OPERATIONS: dict[tuple[str, str], tuple[str, str, str, str | None]] = {
    ("GET", "/health"): ("health_health_get", "service", "", None),
    ("POST", "/v1/identity/verify"):
        ("verify_v1_identity_verify_post", "identity", f"header:x-client-id {AUTH}", "VerifyRequest"),
    ("POST", "/v1/identity/customer-area"):
        ("verify_customer_area_v1_identity_customer_area_post", "identity", AUTH, "CustomerAreaRequest"),
    ("GET", "/v1/customers/by-phone/{e164}"):
        ("customer_by_phone_v1_customers_by_phone__e164__get", "identity", f"path:e164 {AUTH}", None),
    ("GET", "/v1/customers/{customer_code}/bills"):
        ("list_bills_v1_customers__customer_code__bills_get", "bills",
         f"path:customer_code query:status {CUSTOMER}", None),
    ("GET", "/v1/bills/{bill_id}/deferral-options"):
        ("deferral_options_v1_bills__bill_id__deferral_options_get", "deferrals", f"path:bill_id {CUSTOMER}", None),
    ("POST", "/v1/bills/{bill_id}/deferrals"):
        ("create_deferral_v1_bills__bill_id__deferrals_post", "deferrals",
         f"path:bill_id header:idempotency-key {CUSTOMER}", "DeferralRequest"),
    ("GET", "/v1/bills/{bill_id}/installment-options"):
        ("installment_options_v1_bills__bill_id__installment_options_get", "installments",
         f"path:bill_id {CUSTOMER}", None),
    ("POST", "/v1/bills/{bill_id}/installment-plans"):
        ("create_plan_v1_bills__bill_id__installment_plans_post", "installments",
         f"path:bill_id header:idempotency-key {CUSTOMER}", "PlanRequest"),
    ("GET", "/v1/customers/{customer_code}/installment-plans"):
        ("list_plans_v1_customers__customer_code__installment_plans_get", "installments",
         f"path:customer_code {CUSTOMER}", None),
    ("GET", "/v1/bills/{bill_id}/late-interest"):
        ("late_interest_v1_bills__bill_id__late_interest_get", "bills", f"path:bill_id query:paid_on {CUSTOMER}", None),
    ("GET", "/v1/bonus-sociale/rules"):
        ("bonus_sociale_v1_bonus_sociale_rules_get", "bonus sociale", f"query:on {AUTH}", None),
    ("GET", "/v1/stores"):
        ("stores_v1_stores_get", "stores",
         f"query:city query:province query:lat query:lon query:limit query:near query:on {AUTH}", None),
    # issue 12: self-service
    ("GET", "/v1/customers/{customer_code}/meters"):
        ("meters_v1_customers__customer_code__meters_get", "readings", f"path:customer_code {CUSTOMER}", None),
    ("POST", "/v1/supplies/{supply_id}/readings"):
        ("submit_reading_v1_supplies__supply_id__readings_post", "readings",
         f"path:supply_id header:idempotency-key {CUSTOMER}", "ReadingRequest"),
    ("GET", "/v1/customers/{customer_code}/payments"):
        ("payments_v1_customers__customer_code__payments_get", "payments", f"path:customer_code {CUSTOMER}", None),
    ("GET", "/v1/bills/{bill_id}/payment-notice"):
        ("payment_notice_v1_bills__bill_id__payment_notice_get", "payments", f"path:bill_id {CUSTOMER}", None),
    ("POST", "/v1/customers/{customer_code}/complaints"):
        ("file_complaint_v1_customers__customer_code__complaints_post", "complaints",
         f"path:customer_code header:idempotency-key {CUSTOMER}", "ComplaintRequest"),
    ("GET", "/v1/customers/{customer_code}/complaints"):
        ("complaints_v1_customers__customer_code__complaints_get", "complaints",
         f"path:customer_code {CUSTOMER}", None),
    ("GET", "/v1/customers/{customer_code}/direct-debit"):
        ("direct_debit_v1_customers__customer_code__direct_debit_get", "direct debit",
         f"path:customer_code {CUSTOMER}", None),
    ("POST", "/v1/customers/{customer_code}/direct-debit"):
        ("create_mandate_v1_customers__customer_code__direct_debit_post", "direct debit",
         f"path:customer_code header:idempotency-key {CUSTOMER}", "MandateRequest"),
    ("DELETE", "/v1/customers/{customer_code}/direct-debit"):
        ("revoke_mandate_v1_customers__customer_code__direct_debit_delete", "direct debit",
         f"path:customer_code header:idempotency-key {CUSTOMER}", None),
    ("GET", "/v1/customers/{customer_code}/paperless"):
        ("paperless_v1_customers__customer_code__paperless_get", "paperless", f"path:customer_code {CUSTOMER}", None),
    ("PUT", "/v1/customers/{customer_code}/paperless"):
        ("set_paperless_v1_customers__customer_code__paperless_put", "paperless",
         f"path:customer_code header:idempotency-key {CUSTOMER}", "PaperlessRequest"),
}
DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
SCHEMAS = {
    "BillOut", "BillsResponse", "BonusSocialeRulesOut", "CustomerAreaRequest", "DeferralOptions", "DeferralOut",
    "DeferralRequest", "ErrorBody", "ErrorDetail", "InstallmentOptionOut", "InstallmentOptions", "InstallmentOut",
    "LateInterestOut", "OpeningPeriod", "PhoneLookup", "PlanOut", "PlanRequest", "PlansResponse", "Reason",
    "StoreOut", "StoresResponse", "PlaceOut", "VerifyRequest", "VerifyResponse",
    # issue 12
    "ComplaintOut", "ComplaintRequest", "MeterOut", "MeterReadingOut", "MetersResponse", "PaymentNoticeOut",
    "PaymentOut", "PaymentsResponse", "ReadingOut", "ReadingRequest", "UnregisteredBill",
    "DirectDebitResponse", "MandateOut", "MandateRequest", "PaperlessOut", "PaperlessRequest",
}
# fmt: on
# The routes that act for one customer: they need that customer's token.
CUSTOMER_ROUTES = [route for route, operation in OPERATIONS.items() if "x-customer-token" in operation[2]]


# --------------------------------------------------------------------------- routing and OpenAPI
def served_routes(api: Api) -> set[tuple[str, str]]:
    app = api.client.app
    assert isinstance(app, FastAPI)
    routes = [route for route in app.routes if isinstance(route, Route)]
    return {(method, route.path) for route in routes for method in route.methods or () if method != "HEAD"}


def test_the_routing_table_keeps_every_route_of_the_contract(api: Api) -> None:
    served = served_routes(api)
    assert set(OPERATIONS) | DOCS <= served
    # routes added since (issue 12's self-service) are versioned API routes like the others
    assert all(path.startswith("/v1/") for _, path in served - set(OPERATIONS) - DOCS)


def test_the_openapi_document_lists_the_same_operations(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert document["info"]["title"] == "Billing backend" and document["info"]["version"] == "1.0.0"
    listed = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            route = (method.upper(), path)
            listed[route] = (
                operation["operationId"],
                " ".join(operation["tags"]),
                " ".join(f"{p['in']}:{p['name']}" for p in operation.get("parameters", [])),
                body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1] or None,
            )
            errors = () if path == "/health" else ERRORS
            assert set(errors) <= set(operation["responses"]), route
            assert len(set(operation["responses"]) - set(errors)) == 1, route  # one success status
            # every declared error answers with the one JSON error shape
            for status in errors:
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (route, status)
            if route in OPERATIONS:
                success = "201" if method == "post" and not path.startswith("/v1/identity/") else "200"
                assert sorted(operation["responses"]) == [success, *errors], route
    # the contract's operations unchanged; parameters compared as sets (their order means nothing)
    assert {route: (*op[:2], set(op[2].split()), op[3]) for route, op in listed.items() if route in OPERATIONS} == {
        route: (*op[:2], set(op[2].split()), op[3]) for route, op in OPERATIONS.items()
    }
    assert set(listed) == served_routes(api) - DOCS
    assert set(document["components"]["schemas"]) >= SCHEMAS


# --------------------------------------------------------------------------- tokens
def test_only_health_and_the_docs_answer_without_the_service_token(api: Api) -> None:
    assert api.call("GET", "/health", service=None).json() == {"status": "ok", "business_date": BUSINESS_DATE}
    for method, path in DOCS:
        assert api.call(method, path, service=None).status_code == 200, path
    for route in set(OPERATIONS) - {("GET", "/health")}:
        request = request_for(route, MARIO)
        for refused in (None, "nope", SERVICE_TOKEN + "x", ""):
            answer = api.call(**request, service=refused)
            assert answer.status_code == 401 and error_code(answer) == "unauthorized", (route, refused)
        basic = api.call(**request, service=None, headers={"Authorization": f"Basic {SERVICE_TOKEN}"})
        assert basic.status_code == 401, route
    # every other route too, asked without a body: the token is checked before the request is
    for method, path in served_routes(api) - set(OPERATIONS) - DOCS:
        answer = api.call(method, re.sub(r"{[^}]+}", "x", path), service=None)
        assert answer.status_code == 401 and error_code(answer) == "unauthorized", (method, path)


def test_customer_routes_need_a_valid_unexpired_token_with_a_subject(api: Api) -> None:
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    refused = {
        None: "customer_token_required",
        "": "customer_token_required",
        "not-a-token": "customer_token_invalid",
        customer_token(sub=MARIO[0], exp=datetime.now(timezone.utc) - timedelta(seconds=5)): "customer_token_expired",
        customer_token("another-secret-" + "x" * 40, sub=MARIO[0], exp=later): "customer_token_invalid",
        customer_token(sub=MARIO[0]): "customer_token_invalid",
        customer_token(exp=later): "customer_token_invalid",
        customer_token(sub=100001, exp=later): "customer_token_invalid",
        customer_token(sub="", exp=later): "customer_token_invalid",
        jwt.encode({"sub": MARIO[0], "exp": later}, TOKEN_SECRET, algorithm="HS384"): "customer_token_invalid",
    }
    for route in CUSTOMER_ROUTES:
        for token, code in refused.items():
            answer = api.call(**request_for(route, MARIO), customer=token)
            assert answer.status_code == 401 and error_code(answer) == code, (route, token)
    assert api.count(Deferral) == api.count(InstallmentPlan) == 0
    # the token this service issues is accepted everywhere
    mario = api.token()
    for route in CUSTOMER_ROUTES:
        assert api.call(**request_for(route, MARIO), customer=mario).status_code in (200, 201), route


def test_another_customers_token_gets_403_and_changes_nothing(api: Api) -> None:
    laura = api.token(LAURA)
    for route in CUSTOMER_ROUTES:
        answer = api.call(**request_for(route, MARIO), customer=laura, key=f"laura-{route[1]}")
        assert answer.status_code == 403 and error_code(answer) == "forbidden", route
    assert api.count(Deferral) == api.count(InstallmentPlan) == api.count(IdempotencyRecord) == 0
    # an unknown bill is 404 for anyone, before the ownership check
    for route in [r for r in CUSTOMER_ROUTES if "{bill_id}" in r[1]]:
        answer = api.call(**request_for(route, ("100001", "", "F999999-99")), customer=laura)
        assert answer.status_code == 404 and error_code(answer) == "bill_not_found", route


# --------------------------------------------------------------------------- identity
def test_verify_issues_a_customer_token_and_counts_failures_per_customer(api: Api) -> None:
    ok = api.call("POST", "/v1/identity/verify", body={"customer_code": MARIO[0], "fiscal_code": MARIO[1].lower()})
    assert ok.status_code == 200
    body = ok.json()
    assert body["customer_code"] == MARIO[0] and body["name"] == "Mario Rossi"
    claims = jwt.decode(body["customer_token"], TOKEN_SECRET, algorithms=["HS256"])
    assert claims["sub"] == MARIO[0]
    assert claims["exp"] - datetime.now(timezone.utc).timestamp() <= api.settings.customer_token_minutes * 60
    unknown = api.verify(("999999", MARIO[1], ""))
    assert unknown.status_code == 401 and error_code(unknown) == "identity_mismatch"

    limit = api.settings.verify_max_failures
    statuses = [api.verify(("100003", WRONG_FISCAL_CODE, ""), client_id=f"c{i}").status_code for i in range(limit + 1)]
    assert statuses == [401] * limit + [429]
    blocked = api.verify(("100003", "VRDGPP70C15G702S", ""), client_id="the-customer")
    assert blocked.status_code == 429 and error_code(blocked) == "too_many_attempts"


def test_verify_counts_checks_per_client_across_customer_codes(api: Api) -> None:
    limit = api.settings.verify_client_max_failures
    codes = ["100002", "100003", "100004", "100005", "100006"]
    statuses = [api.verify((code, WRONG_FISCAL_CODE, ""), client_id="walker").status_code for code in codes]
    assert statuses == [401] * limit + [429] * (len(codes) - limit)
    # the refused client spent nobody's counter: the customers still verify from elsewhere
    assert api.verify(("100006", "RMNFNC90T52A390Z", ""), client_id="francesca").status_code == 200
    # a success gives back the slot it took, without refilling the client's failures
    assert api.verify(MARIO, client_id="mario").status_code == 200
    statuses = [api.verify(("100004", WRONG_FISCAL_CODE, ""), client_id="mario").status_code for _ in range(limit)]
    assert statuses == [401] * limit
    assert api.verify(MARIO, client_id="mario").status_code == 429
    bad = api.verify(MARIO, client_id="not a valid id!")
    assert bad.status_code == 422 and error_code(bad) == "invalid_request"


def test_customer_area_token_stands_for_the_identity_check(api: Api) -> None:
    signed = customer_area.sign(MARIO[0], api.settings)
    ok = api.call("POST", "/v1/identity/customer-area", body={"token": signed})
    assert ok.status_code == 200 and ok.json()["customer_code"] == MARIO[0]
    bills = api.call("GET", f"/v1/customers/{MARIO[0]}/bills", customer=ok.json()["customer_token"])
    assert bills.status_code == 200
    for token in (
        "garbage",
        customer_area.sign("999999", api.settings),
        customer_area.sign(MARIO[0], settings_for(api.url, customer_area_jwt_secret="other-" + "o" * 40)),
    ):
        refused = api.call("POST", "/v1/identity/customer-area", body={"token": token})
        assert refused.status_code == 401 and error_code(refused) == "customer_area_token_invalid"
    # not configured: refused whatever the token
    with TestClient(create_app(settings_for(api.url, customer_area_jwt_secret=""))) as client:
        disabled = client.post(
            "/v1/identity/customer-area", json={"token": signed}, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
        )
    assert disabled.status_code == 403 and error_code(disabled) == "customer_area_disabled"


def test_phone_lookup(api: Api) -> None:
    for number in ("+393331234567", "393331234567"):
        assert api.call("GET", f"/v1/customers/by-phone/{number}").json() == {"customer_code": MARIO[0]}
    unknown = api.call("GET", "/v1/customers/by-phone/+390000000000")
    assert unknown.status_code == 404 and error_code(unknown) == "unknown_phone"


# --------------------------------------------------------------------------- idempotency
def test_a_retry_with_the_same_key_replays_the_first_answer(api: Api) -> None:
    mario = api.token()
    path = f"/v1/bills/{MARIO[2]}/installment-plans"
    first = api.call("POST", path, customer=mario, key="plan-1", body={"installments": 2})
    assert first.status_code == 201 and "Idempotent-Replay" not in first.headers
    replay = api.call("POST", path, customer=mario, key="plan-1", body={"installments": 2})
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replay"] == "true"
    assert api.count(InstallmentPlan) == 1
    listed = api.call("GET", f"/v1/customers/{MARIO[0]}/installment-plans", customer=mario).json()["plans"]
    assert listed == [first.json()] and first.json()["total_cents"] == 18_240
    reused = api.call("POST", path, customer=mario, key="plan-1", body={"installments": 3})
    assert reused.status_code == 422 and error_code(reused) == "idempotency_key_reused"
    # a new key is a new request: the rules refuse a second plan
    second = api.call("POST", path, customer=mario, key="plan-2", body={"installments": 2})
    assert second.status_code == 409 and error_code(second) == "not_eligible"
    # the key's scope is the route: the same key on the deferrals route is evaluated there
    deferral = api.call(
        "POST", f"/v1/bills/{MARIO[2]}/deferrals", customer=mario, key="plan-1", body={"new_due_date": "2026-12-20"}
    )
    assert deferral.status_code == 409 and "Idempotent-Replay" not in deferral.headers
    for key in ("", "k" * 101):
        bad = api.call("POST", path, customer=mario, key=key, body={"installments": 2})
        assert bad.status_code == 400 and error_code(bad) == "invalid_idempotency_key", key
    assert api.call("POST", path, customer=mario, key="k" * 100, body={"installments": 2}).status_code == 409


def test_idempotency_records_expire_by_age(api: Api) -> None:
    mario = api.token()
    path, body = f"/v1/bills/{MARIO[2]}/deferrals", {"new_due_date": "2026-12-20"}
    assert api.call("POST", path, customer=mario, key="d-1", body=body).status_code == 201
    assert api.call("POST", path, customer=mario, key="d-1", body=body).headers["Idempotent-Replay"] == "true"
    age = timedelta(hours=api.settings.idempotency_retention_hours, minutes=1)
    with create_engine(api.url, future=True).begin() as connection:
        connection.execute(
            update(IdempotencyRecord).values(created_at=datetime.now(timezone.utc).replace(tzinfo=None) - age)
        )
    again = api.call("POST", path, customer=mario, key="d-1", body=body)
    assert again.status_code == 409 and "Idempotent-Replay" not in again.headers  # evaluated: already deferred
    assert api.count(IdempotencyRecord) == 0 and api.count(Deferral) == 1


# --------------------------------------------------------------------------- error codes
def test_business_refusals_have_their_codes(api: Api) -> None:
    mario, laura = api.token(), api.token(LAURA)
    bill = f"/v1/bills/{MARIO[2]}"
    options = api.call("GET", f"{bill}/deferral-options", customer=mario).json()
    assert options["eligible"] and options["latest_date"] == "2026-12-31"
    too_far = api.call("POST", f"{bill}/deferrals", customer=mario, body={"new_due_date": "2027-01-15"})
    assert too_far.status_code == 422 and error_code(too_far) == "date_out_of_range"
    assert "31 dicembre 2026" in too_far.json()["error"]["message"]
    not_offered = api.call("POST", f"{bill}/installment-plans", customer=mario, body={"installments": 7})
    assert not_offered.status_code == 422 and error_code(not_offered) == "count_not_offered"
    refused = api.call("POST", f"/v1/bills/{LAURA[2]}/installment-plans", customer=laura, body={"installments": 2})
    assert refused.status_code == 409 and error_code(refused) == "not_eligible"
    reason = api.call("GET", f"/v1/bills/{LAURA[2]}/installment-options", customer=laura).json()["reason"]
    assert reason["code"] == "too_late"
    for paid_on in ("1999-12-31", "2036-12-31"):
        late = api.call("GET", f"/v1/bills/{LAURA[2]}/late-interest", customer=laura, params={"paid_on": paid_on})
        assert late.status_code == 422 and error_code(late) == "date_out_of_range", paid_on
    quote = api.call("GET", f"/v1/bills/{LAURA[2]}/late-interest", customer=laura, params={"paid_on": BUSINESS_DATE})
    assert (quote.json()["days_late"], quote.json()["interest_cents"]) == (12, 152)
    no_rules = api.call("GET", "/v1/bonus-sociale/rules", params={"on": "1990-01-01"})
    assert no_rules.status_code == 404 and error_code(no_rules) == "no_rules"
    assert api.call("GET", "/v1/bonus-sociale/rules").json()["on"] == BUSINESS_DATE
    alone = api.call("GET", "/v1/stores", params={"lat": 43.3})
    assert alone.status_code == 422 and error_code(alone) == "invalid_request"


def test_framework_errors_keep_the_json_error_shape(api: Api) -> None:
    mario = api.token()
    missing = api.call("GET", "/v1/does-not-exist")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    wrong_method = api.call("DELETE", "/v1/stores")
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "method_not_allowed"
    cases = [
        api.call("POST", "/v1/identity/verify", body={"customer_code": MARIO[0]}),
        api.call("POST", "/v1/identity/verify", body={"customer_code": MARIO[0], "fiscal_code": "RSSMRA80A01H501Ü"}),
        api.call("POST", f"/v1/bills/{MARIO[2]}/deferrals", customer=mario, body={"new_due_date": "31/12"}),
        api.call("POST", f"/v1/bills/{MARIO[2]}/installment-plans", customer=mario, body={"installments": "tre"}),
        api.call("GET", f"/v1/customers/{MARIO[0]}/bills", customer=mario, params={"status": "unpaid"}),
        api.call("GET", f"/v1/bills/{MARIO[2]}/late-interest", customer=mario, params={"paid_on": "domani"}),
        api.call("GET", "/v1/stores", params={"limit": 0}),
        api.call("GET", "/v1/stores", params={"city": "x" * 81}),
    ]
    for answer in cases:
        assert answer.status_code == 422 and error_code(answer) == "invalid_request", answer.text
        assert answer.json()["error"]["details"], answer.text


def test_reads_answer_for_the_business_day(api: Api) -> None:
    mario = api.token()
    bills = api.call("GET", f"/v1/customers/{MARIO[0]}/bills", customer=mario).json()
    assert [(b["id"], b["due_date"], b["pod"], b["pdr"]) for b in bills["bills"]] == [
        (MARIO[2], (date.fromisoformat(BUSINESS_DATE) + timedelta(days=5)).isoformat(), "IT001E12345678", None)
    ]
    paid = api.call("GET", f"/v1/customers/{MARIO[0]}/bills", customer=mario, params={"status": "paid"}).json()
    assert [b["status"] for b in paid["bills"]] == ["paid", "paid"]
    every = api.call("GET", f"/v1/customers/{MARIO[0]}/bills", customer=mario, params={"status": "all"}).json()
    assert len(every["bills"]) == 3
    near = api.call("GET", "/v1/stores", params={"lat": 43.32, "lon": 11.33, "limit": 3}).json()["stores"]
    assert near[0]["city"] == "Siena" and [s["distance_km"] for s in near] == sorted(s["distance_km"] for s in near)
    prato = api.call("GET", "/v1/stores", params={"city": "PRATO"}).json()["stores"]
    assert prato and {s["city"] for s in prato} == {"Prato"} and prato[0]["open_today"]  # a Thursday
    arezzo = api.call("GET", "/v1/stores", params={"province": "ar"}).json()["stores"]
    assert {s["city"] for s in arezzo} == {"Arezzo", "Montevarchi", "Sansepolcro"}


def test_create_app_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'billing.db'}"
    for missing in ({"billing_api_token": ""}, {"billing_token_secret": ""}):
        with pytest.raises(RuntimeError, match="BILLING_API_TOKEN and BILLING_TOKEN_SECRET"):
            create_app(settings_for(url, **missing))
