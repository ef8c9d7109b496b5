"""The billing API as the contract writes it, against the real service on loopback."""

from __future__ import annotations

import concurrent.futures
import uuid

import requests

TODAY = "2026-11-26"


def test_only_health_and_openapi_answer_without_the_service_token(shared_backend):
    assert requests.get(shared_backend.url + "/health", timeout=5).status_code == 200
    assert requests.get(shared_backend.url + "/openapi.json", timeout=5).json()["info"]["title"]
    for path in ("/v1/stores", "/v1/bonus-sociale/rules", "/v1/customers/100001/bills",
                 "/v1/customers/by-phone/+393331234567"):
        response = requests.get(shared_backend.url + path, timeout=5)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
        wrong = requests.get(shared_backend.url + path, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401


def test_verify_returns_a_customer_token_and_rejects_a_wrong_pair(shared_backend):
    ok = shared_backend.post("/v1/identity/verify", {"customer_code": "100001", "fiscal_code": "rssmra80a01h501u"})
    assert ok.status_code == 200
    assert ok.json()["name"] == "Mario Rossi" and ok.json()["customer_token"]
    wrong = shared_backend.post("/v1/identity/verify", {"customer_code": "100001", "fiscal_code": "BNCLRA85M41D612D"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "identity_mismatch"


def test_repeated_failures_are_refused_with_429(backend):
    for _ in range(5):
        assert backend.post("/v1/identity/verify", {"customer_code": "100003", "fiscal_code": "XXXXXX00X00X000X"}).status_code == 401
    blocked = backend.post("/v1/identity/verify", {"customer_code": "100003", "fiscal_code": "VRDGPP70C15G702S"})
    assert blocked.status_code == 429 and blocked.json()["error"]["code"] == "too_many_attempts"


def test_bills_need_the_customer_token_of_that_customer(shared_backend):
    mario = shared_backend.verify()
    assert shared_backend.get("/v1/customers/100001/bills").status_code == 401
    bills = shared_backend.get("/v1/customers/100001/bills", mario).json()["bills"]
    assert [(b["amount_cents"], b["due_date"], b["pod"]) for b in bills] == [(18_240, "2026-12-01", "IT001E12345678")]
    other = shared_backend.get("/v1/customers/100002/bills", mario)
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    assert shared_backend.get("/v1/bills/F100002-01/installment-options", mario).status_code == 403
    assert shared_backend.get("/v1/customers/100001/bills", "not-a-token").status_code == 401
    paid = shared_backend.get("/v1/customers/100001/bills", mario, status="paid").json()["bills"]
    assert len(paid) == 2 and all(b["status"] == "paid" for b in paid)


def test_laura_bianchi_is_not_eligible_and_told_why(shared_backend):
    laura = shared_backend.verify("100002", "BNCLRA85M41D612D")
    options = shared_backend.get("/v1/bills/F100002-01/installment-options", laura).json()
    assert options["eligible"] is False
    assert options["reason"]["code"] == "too_late" and "12 giorni" in options["reason"]["message"]
    refused = shared_backend.post("/v1/bills/F100002-01/installment-plans", {"installments": 2}, laura, key=str(uuid.uuid4()))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_eligible"


def test_installment_plan_is_created_once_for_retries_with_the_same_key(backend):
    mario = backend.verify()
    options = backend.get("/v1/bills/F100001-01/installment-options", mario).json()
    assert options["eligible"] and options["options"][0]["count"] == 2
    key = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: backend.post("/v1/bills/F100001-01/installment-plans",
                                                       {"installments": 2}, mario, key=key), range(3)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    plans = backend.get("/v1/customers/100001/installment-plans", mario).json()["plans"]
    assert len(plans) == 1 and plans[0]["total_cents"] == 18_240
    # a new key for the same bill is a new request, and the rules refuse a second plan
    again = backend.post("/v1/bills/F100001-01/installment-plans", {"installments": 2}, mario, key=str(uuid.uuid4()))
    assert again.status_code == 409
    # the same key with another body is an error, not a replay
    reused = backend.post("/v1/bills/F100001-01/installment-plans", {"installments": 3}, mario, key=key)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"


def test_deferral_is_created_once_and_moves_the_due_date(backend):
    mario = backend.verify()
    options = backend.get("/v1/bills/F100001-01/deferral-options", mario).json()
    assert options["eligible"] and options["latest_date"] == "2026-12-31"
    too_far = backend.post("/v1/bills/F100001-01/deferrals", {"new_due_date": "2027-01-15"}, mario, key="k-far")
    assert too_far.status_code == 422 and too_far.json()["error"]["code"] == "date_out_of_range"
    first = backend.post("/v1/bills/F100001-01/deferrals", {"new_due_date": "2026-12-20"}, mario, key="k1")
    retry = backend.post("/v1/bills/F100001-01/deferrals", {"new_due_date": "2026-12-20"}, mario, key="k1")
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    bills = backend.get("/v1/customers/100001/bills", mario).json()["bills"]
    assert bills[0]["due_date"] == "2026-12-20" and bills[0]["deferred"] is True
    second = backend.post("/v1/bills/F100001-01/deferrals", {"new_due_date": "2026-12-28"}, mario, key="k2")
    assert second.status_code == 409


def test_late_interest_quote(shared_backend):
    laura = shared_backend.verify("100002", "BNCLRA85M41D612D")
    quote = shared_backend.get("/v1/bills/F100002-01/late-interest", laura, paid_on=TODAY).json()
    assert quote["days_late"] == 12 and quote["interest_cents"] == 152
    bad = shared_backend.get("/v1/bills/F100002-01/late-interest", laura, paid_on="domani")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_bonus_sociale_rules_by_day(shared_backend):
    today = shared_backend.get("/v1/bonus-sociale/rules").json()
    assert today["isee_threshold_eur"] == 9796 and today["automatic"] is True
    in_2020 = shared_backend.get("/v1/bonus-sociale/rules", on="2020-04-15").json()
    assert in_2020["isee_threshold_eur"] == 8265 and in_2020["automatic"] is False and in_2020["deadlines"]


def test_stores_by_city_province_and_position(shared_backend):
    prato = shared_backend.get("/v1/stores", city="prato").json()["stores"]
    assert {s["city"] for s in prato} == {"Prato"} and all(s["sample_data"] for s in prato)
    assert prato[0]["open_today"]  # a Thursday: open
    arezzo = shared_backend.get("/v1/stores", province="AR").json()["stores"]
    assert {s["city"] for s in arezzo} == {"Arezzo", "Montevarchi", "Sansepolcro"}
    near_siena = shared_backend.get("/v1/stores", lat=43.32, lon=11.33, limit=1).json()["stores"]
    assert near_siena[0]["city"] == "Siena" and near_siena[0]["distance_km"] < 5
    assert shared_backend.get("/v1/stores", lat=43.3).status_code == 422


def test_phone_lookup_is_a_hint_without_a_token(shared_backend):
    found = shared_backend.get("/v1/customers/by-phone/+393331234567").json()
    assert found == {"customer_code": "100001"}
    assert shared_backend.get("/v1/customers/by-phone/+390000000000").status_code == 404


def test_bad_input_gets_json_4xx_never_500(shared_backend):
    mario = shared_backend.verify()
    cases = [
        shared_backend.post("/v1/identity/verify", {"customer_code": "100001"}),
        shared_backend.post("/v1/identity/verify", {}),
        shared_backend.post("/v1/bills/F100001-01/deferrals", {"new_due_date": "31/12"}, mario),
        shared_backend.post("/v1/bills/F100001-01/installment-plans", {"installments": "tre"}, mario),
        shared_backend.get("/v1/bills/nope/deferral-options", mario),
        shared_backend.get("/v1/customers/100001/bills", mario, status="unpaid"),
        shared_backend.get("/v1/does-not-exist"),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["code"]


def test_concurrent_requests_without_a_key_still_create_one_plan(backend):
    mario = backend.verify()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: backend.post("/v1/bills/F100001-01/installment-plans",
                                                       {"installments": 2}, mario), range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert len(backend.get("/v1/customers/100001/installment-plans", mario).json()["plans"]) == 1
