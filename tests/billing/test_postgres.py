"""The billing backend on PostgreSQL: migrations, seed, and the idempotent plan creation."""

from __future__ import annotations

import concurrent.futures

from tests.billing.conftest import start_backend
from tests.harness.services import temporary_postgres_database


def test_backend_runs_on_postgresql(tmp_path):
    with temporary_postgres_database() as url:
        backend = start_backend(tmp_path, BILLING_DATABASE_URL=url)
        try:
            mario = backend.verify()
            with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
                answers = list(pool.map(lambda _: backend.post(
                    "/v1/bills/F100001-01/installment-plans", {"installments": 2}, mario, key="pg-key"), range(3)))
            assert {a.status_code for a in answers} == {201} and len({a.json()["id"] for a in answers}) == 1
            plans = backend.get("/v1/customers/100001/installment-plans", mario).json()["plans"]
            assert len(plans) == 1
            assert backend.get("/v1/stores", city="Prato").json()["stores"]
        finally:
            backend.stop()
