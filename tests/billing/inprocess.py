"""In-process harness of the billing API: FastAPI's TestClient on `create_app`, a seeded SQLite
file, the demo customers' tokens. No process starts (tests/billing/conftest.py's `api` fixture)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import create_engine, func, select

from bot.billing.api import create_app
from bot.billing.seed import seed
from bot.settings import Settings, get_settings

BUSINESS_DATE = "2026-11-26"
SERVICE_TOKEN = "service-token-in-process-" + "s" * 24
TOKEN_SECRET = "customer-token-secret-in-process-" + "t" * 24
AREA_SECRET = "customer-area-secret-in-process-" + "a" * 24
# (customer code, codice fiscale, open bill) of two demo customers (bot/billing/seed.py)
MARIO = ("100001", "RSSMRA80A01H501U", "F100001-01")
LAURA = ("100002", "BNCLRA85M41D612D", "F100002-01")
# their supplies' ids on a freshly seeded database (issue 12's self-reading route)
SUPPLY_IDS = {"100001": "1", "100002": "2"}
# a valid Italian IBAN (checksum and format), not the one of Mario's demo mandate
DEMO_IBAN = "IT42L1234512345123456789012"


@dataclass
class Api:
    client: TestClient
    settings: Settings
    url: str

    def call(
        self,
        method: str,
        path: str,
        *,
        service: str | None = SERVICE_TOKEN,
        customer: str | None = None,
        key: str | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        if service is not None:
            sent["Authorization"] = f"Bearer {service}"
        if customer is not None:
            sent["X-Customer-Token"] = customer
        if key is not None:
            sent["Idempotency-Key"] = key
        return self.client.request(method, path, json=body, params=params, headers=sent)

    def verify(self, who: tuple[str, str, str] = MARIO, client_id: str | None = None) -> Response:
        headers = {"X-Client-Id": client_id} if client_id else None
        return self.call(
            "POST", "/v1/identity/verify", body={"customer_code": who[0], "fiscal_code": who[1]}, headers=headers
        )

    def token(self, who: tuple[str, str, str] = MARIO) -> str:
        answer = self.verify(who)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["customer_token"])

    def count(self, model: type) -> int:
        with create_engine(self.url, future=True).connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "billing_database_url": url,
        "billing_api_token": SERVICE_TOKEN,
        "billing_token_secret": TOKEN_SECRET,
        "customer_area_jwt_secret": AREA_SECRET,
        "business_date": BUSINESS_DATE,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # pydantic 1 BaseSettings, no plugin


@contextmanager
def running_in_process(tmp_path: Path) -> Iterator[Api]:
    """A seeded SQLite database in `tmp_path` and the app on it, for the business day."""
    # The business clock reads the process settings: the seed and the rules must see the same
    # day, and the next reader of get_settings() must see the environment again.
    previous = os.environ.get("BUSINESS_DATE")
    os.environ["BUSINESS_DATE"] = BUSINESS_DATE
    get_settings.cache_clear()
    try:
        url = f"sqlite:///{tmp_path / 'billing.db'}"
        seed(url)
        settings = settings_for(url)
        with TestClient(create_app(settings)) as client:
            yield Api(client=client, settings=settings, url=url)
    finally:
        if previous is None:
            os.environ.pop("BUSINESS_DATE", None)
        else:
            os.environ["BUSINESS_DATE"] = previous
        get_settings.cache_clear()


def request_for(route: tuple[str, str], customer: tuple[str, str, str]) -> dict[str, Any]:
    """A request on `route` about `customer`'s data that would succeed with their tokens."""
    method, path = route
    concrete = (
        path.replace("{customer_code}", customer[0])
        .replace("{bill_id}", customer[2])
        .replace("{e164}", "+393331234567")
        .replace("{supply_id}", SUPPLY_IDS[customer[0]])
    )
    body: Any = {
        "/v1/identity/verify": {"customer_code": customer[0], "fiscal_code": customer[1]},
        "/v1/identity/customer-area": {"token": "x"},
        "/v1/bills/{bill_id}/deferrals": {"new_due_date": "2026-12-20"},
        "/v1/bills/{bill_id}/installment-plans": {"installments": 2},
        "/v1/supplies/{supply_id}/readings": {"registers": {"F1": 4300, "F2": 3250, "F3": 5100}},
        "/v1/customers/{customer_code}/complaints": {"category": "altro", "text": "Un reclamo di prova."},
        "/v1/customers/{customer_code}/direct-debit": (
            {"iban": DEMO_IBAN, "holder_name": "Mario Rossi"} if method == "POST" else None
        ),
        "/v1/customers/{customer_code}/paperless": {"email": "mario.rossi@example.it"} if method == "PUT" else None,
    }.get(path)
    params = {"paid_on": BUSINESS_DATE} if path.endswith("late-interest") else None
    return {"method": method, "path": concrete, "body": body, "params": params}


def customer_token(secret: str = TOKEN_SECRET, **claims: Any) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def error_code(response: Response) -> str:
    return str(response.json()["error"]["code"])
