"""Issue 13: identification with the codice fiscale and the POD/PDR (POST
/v1/identity/verify-supply). A second way in must not be a second door for guessing: the same
service token, the same atomic counters as /v1/identity/verify, against the real backend."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.billing.conftest import Backend, start_backend

VERIFY_SUPPLY = "/v1/identity/verify-supply"
MARIO_POD, MARIO_FISCAL_CODE = "IT001E12345678", "RSSMRA80A01H501U"
WRONG_FISCAL_CODE = "BNCLRA85M41D612D"  # valid, someone else's


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    running = start_backend(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def verify_supply(backend: Backend, point: str, fiscal_code: str, client: str = "", token: bool = True):
    headers = backend.headers(**({"X-Client-Id": client} if client else {})) if token else {}
    return requests.post(
        backend.url + VERIFY_SUPPLY,
        json={"supply_point": point, "fiscal_code": fiscal_code},
        headers=headers,
        timeout=30,
    )


def test_the_right_pair_gets_a_customer_token_for_the_supply_holder(backend):
    answer = verify_supply(backend, MARIO_POD.lower(), MARIO_FISCAL_CODE)
    assert answer.status_code == 200 and answer.json()["customer_code"] == "100001"
    bills = backend.get("/v1/customers/100001/bills", answer.json()["customer_token"])
    assert bills.status_code == 200


def test_without_the_service_token_nothing_is_checked(backend):
    assert verify_supply(backend, MARIO_POD, MARIO_FISCAL_CODE, token=False).status_code == 401


def test_a_malformed_supply_point_is_a_422_not_a_500(backend):
    for point in ("IT001", "x" * 5000, "IT001E1234567é", "1234567890123"):
        assert verify_supply(backend, point, MARIO_FISCAL_CODE).status_code == 422


def test_guessing_fiscal_codes_on_one_supply_point_is_stopped(backend):
    """The attack: a POD (printed on every bill, seen by installers) and codici fiscali tried in a
    burst from many clients. At most VERIFY_MAX_FAILURES are evaluated; then even the right one is 429."""

    def attempt(i: int) -> int:
        return verify_supply(backend, MARIO_POD, WRONG_FISCAL_CODE, client=f"c{i}-{uuid.uuid4().hex[:6]}").status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(20)))
    assert codes.count(401) == 5 and codes.count(429) == 15
    assert verify_supply(backend, MARIO_POD, MARIO_FISCAL_CODE).status_code == 429


def test_one_client_shares_its_budget_across_both_ways_in(backend):
    """The attack: a conversation spends its three identity checks on /verify, then tries more
    on /verify-supply. The client's counter is the same one."""
    client = f"conv-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        answer = requests.post(
            backend.url + "/v1/identity/verify",
            timeout=30,
            json={"customer_code": "100002", "fiscal_code": WRONG_FISCAL_CODE[::-1]},
            headers=backend.headers(**{"X-Client-Id": client}),
        )
        assert answer.status_code == 401
    assert verify_supply(backend, MARIO_POD, MARIO_FISCAL_CODE, client=client).status_code == 429
