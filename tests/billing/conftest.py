"""The billing backend started for real (uvicorn on a free loopback port, SQLite in tmp)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.ops.services import billing_server_command, service_environment
from bot.settings import PROJECT_ROOT, Settings
from tests.billing.inprocess import Api, running_in_process
from tests.harness.processes import free_port, start_logged, stop, wait_for

BUSINESS_DATE = "2026-11-26"


@dataclass
class Backend:
    url: str
    token: str
    process: subprocess.Popen
    env: dict[str, str]

    def headers(self, customer_token: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if customer_token:
            headers["X-Customer-Token"] = customer_token
        return headers

    def get(self, path: str, customer_token: str | None = None, **params) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers(customer_token), params=params, timeout=10)

    def post(self, path: str, body: dict, customer_token: str | None = None, key: str | None = None) -> requests.Response:
        extra = {"Idempotency-Key": key} if key else {}
        return requests.post(self.url + path, json=body, headers=self.headers(customer_token, **extra), timeout=10)

    def verify(self, code: str = "100001", fiscal_code: str = "RSSMRA80A01H501U") -> str:
        response = self.post("/v1/identity/verify", {"customer_code": code, "fiscal_code": fiscal_code})
        assert response.status_code == 200, response.text
        return response.json()["customer_token"]

    def stop(self) -> None:
        stop(self.process)


def start_backend(tmp: Path, business_date: str = BUSINESS_DATE, **overrides: str) -> Backend:
    """Seed a fresh database (SQLite in `tmp` unless overridden) and start the backend on it,
    as `make run` does."""
    port = free_port()
    env = service_environment(Settings(_env_file=None), **{  # type: ignore[call-arg,arg-type]
        "BILLING_PORT": str(port),
        "BILLING_DATABASE_URL": f"sqlite:///{tmp / 'billing.db'}",
        "BILLING_API_TOKEN": "service-token-for-tests",
        "BILLING_TOKEN_SECRET": "customer-token-secret-for-tests",
        "BUSINESS_DATE": business_date,
        **overrides,
    })
    subprocess.run([sys.executable, "-m", "bot.billing.seed"],
                   cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    settings = Settings(_env_file=None, billing_port=port)  # type: ignore[call-arg]
    process = start_logged(billing_server_command(settings), env, tmp / "billing.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/health", process, tmp / "billing.log", timeout=60)
    except RuntimeError:
        stop(process)
        raise
    return Backend(url=url, token=env["BILLING_API_TOKEN"], process=process, env=env)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    """A backend of its own, for tests that change the demo data."""
    running = start_backend(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def shared_backend(tmp_path_factory) -> Iterator[Backend]:
    """One backend for a module's read-only tests."""
    running = start_backend(tmp_path_factory.mktemp("billing"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The billing app in-process on a seeded SQLite file (tests/billing/inprocess.py)."""
    with running_in_process(tmp_path) as running:
        yield running
