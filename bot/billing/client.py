"""The one client of the billing backend, used by every action.

`requests` with connect and read timeouts on every call; retries with backoff only for calls
that are safe to repeat (GETs, and POSTs carrying an Idempotency-Key); errors become
`BillingError` values with a code, which the actions turn into Italian sentences. The calls
block, so actions run them off the event loop with `await run_blocking(...)`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import requests

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class BillingError(Exception):
    """The backend answered with an error (`code` from its JSON body) or could not be reached."""

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.status = code, message, status


class BillingUnavailable(BillingError):
    """Timeout, connection refused, or a 5xx: nothing the customer did wrong."""


@dataclass
class BillingClient:
    base_url: str
    token: str
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.3

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> BillingClient:
        settings = settings or get_settings()
        return cls(base_url=settings.billing_base_url.rstrip("/"), token=settings.billing_api_token)

    def __post_init__(self) -> None:
        self._session = requests.Session()

    # ------------------------------------------------------------------ transport
    def _request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """The backend's JSON answer (`options`: those of `_response`)."""
        answer: dict[str, Any] = self._response(method, path, **options).json()
        return answer

    def _change(
        self, method: str, path: str, customer_token: str, idempotency_key: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A change to a customer's bills or account: on their token, with the key that makes it
        safe to retry (the backend answers a key it has seen with the first answer)."""
        return self._request(method, path, customer_token=customer_token, json=body, idempotency_key=idempotency_key)

    def _response(
        self,
        method: str,
        path: str,
        *,
        customer_token: str | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        client_id: str | None = None,
    ) -> requests.Response:
        """The backend's successful answer (retried where safe), or BillingError."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if client_id:
            headers["X-Client-Id"] = client_id
        if customer_token:
            headers["X-Customer-Token"] = customer_token
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        repeatable = method == "GET" or idempotency_key is not None
        attempts = 1 + (self.retries if repeatable else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._session.request(
                    method,
                    self.base_url + path,
                    headers=headers,
                    params=params,
                    json=json,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
            except requests.RequestException as exc:
                failure: BillingError = BillingUnavailable("unavailable", type(exc).__name__)
            else:
                if response.status_code < 400:
                    return response
                failure = self._error_from(response)
                if not isinstance(failure, BillingUnavailable):
                    raise failure
            if attempt < attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        logger.warning("billing backend unavailable: %s %s (%s)", method, path.split("/")[1:3], failure.code)
        raise failure

    @staticmethod
    def _error_from(response: requests.Response) -> BillingError:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = error.get("code") or f"http_{response.status_code}"
        if response.status_code >= 500:
            return BillingUnavailable(code, error.get("message", ""), response.status_code)
        return BillingError(code, error.get("message", ""), response.status_code)

    # ------------------------------------------------------------------ API
    def verify(self, customer_code: str, fiscal_code: str, client_id: str | None = None) -> dict[str, Any]:
        """`client_id` (see `client_id_for`) lets the backend limit one conversation's checks
        across customer codes. Not retried: a failed attempt counts towards the limits."""
        return self._request(
            "POST",
            "/v1/identity/verify",
            client_id=client_id,
            json={"customer_code": customer_code, "fiscal_code": fiscal_code},
        )

    def verify_supply(self, fiscal_code: str, supply_point: str, client_id: str | None = None) -> dict[str, Any]:
        """Codice fiscale and POD/PDR (issue 13). Not retried, as `verify`: each attempt counts."""
        return self._request(
            "POST",
            "/v1/identity/verify-supply",
            client_id=client_id,
            json={"fiscal_code": fiscal_code, "supply_point": supply_point},
        )

    def verify_customer_area(self, token: str) -> dict[str, Any]:
        return self._request("POST", "/v1/identity/customer-area", json={"token": token})

    def customer_by_phone(self, e164: str) -> str | None:
        try:
            return self._request("GET", f"/v1/customers/by-phone/{e164}")["customer_code"]
        except BillingError as error:
            if error.status == 404:
                return None
            raise

    def bills(self, customer_code: str, customer_token: str, status: str = "open") -> list:
        return self._request(
            "GET", f"/v1/customers/{customer_code}/bills", customer_token=customer_token, params={"status": status}
        )["bills"]

    def plans(self, customer_code: str, customer_token: str) -> list:
        """The customer's installment plans (the agent desk's customer panel)."""
        path = f"/v1/customers/{customer_code}/installment-plans"
        return self._request("GET", path, customer_token=customer_token)["plans"]

    def deferral_options(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/bills/{bill_id}/deferral-options", customer_token=customer_token)

    def create_deferral(
        self, bill_id: str, customer_token: str, new_due_date: date, idempotency_key: str
    ) -> dict[str, Any]:
        body = {"new_due_date": new_due_date.isoformat()}
        return self._change("POST", f"/v1/bills/{bill_id}/deferrals", customer_token, idempotency_key, body)

    def installment_options(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/bills/{bill_id}/installment-options", customer_token=customer_token)

    def create_plan(self, bill_id: str, customer_token: str, installments: int, idempotency_key: str) -> dict[str, Any]:
        body = {"installments": installments}
        return self._change("POST", f"/v1/bills/{bill_id}/installment-plans", customer_token, idempotency_key, body)

    def late_interest(self, bill_id: str, customer_token: str, paid_on: date) -> dict[str, Any]:
        return self._request(
            "GET",
            f"/v1/bills/{bill_id}/late-interest",
            customer_token=customer_token,
            params={"paid_on": paid_on.isoformat()},
        )

    def bonus_sociale_rules(self, on: date | None = None) -> dict[str, Any]:
        return self._request("GET", "/v1/bonus-sociale/rules", params={"on": on.isoformat()} if on else None)

    def stores(
        self,
        city: str | None = None,
        province: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        limit: int = 3,
        on: date | None = None,
    ) -> list:
        """The stores (with their hours on `on`, `open_on`, when it is given)."""
        wanted = {"city": city, "province": province, "lat": lat, "lon": lon, "limit": limit, "on": on}
        params = {k: v.isoformat() if isinstance(v, date) else v for k, v in wanted.items() if v is not None}
        return self._request("GET", "/v1/stores", params=params)["stores"]

    def stores_near(self, near: str, on: date | None = None, limit: int = 3) -> dict[str, Any]:
        """The stores nearest to any comune or CAP (issue 16), with their hours on `on`: the
        whole answer (the place found, or the candidates to choose from, and how the nearest
        were chosen)."""
        params: dict[str, Any] = {"near": near, "limit": limit}
        if on is not None:
            params["on"] = on.isoformat()
        return self._request("GET", "/v1/stores", params=params)

    # ------------------------------------------------------------------ bill copy and explanation (issue 12)
    def bill_download_link(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        """A signed token standing for the bill's PDF for a few minutes (no customer token in it)."""
        return self._request("GET", f"/v1/bills/{bill_id}/download-link", customer_token=customer_token)

    def bill_download(self, token: str) -> bytes:
        """The PDF a download-link token stands for (BillingError link_invalid / link_expired)."""
        return self._response("GET", f"/v1/bill-downloads/{token}").content

    def bill_comparison(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/bills/{bill_id}/comparison", customer_token=customer_token)

    # ------------------------------------------------------------------ self-service (issue 12)
    def meters(self, customer_code: str, customer_token: str) -> list:
        return self._request("GET", f"/v1/customers/{customer_code}/meters", customer_token=customer_token)["meters"]

    def submit_reading(
        self, supply_id: int, customer_token: str, registers: dict[str, int], confirm_high: bool, idempotency_key: str
    ) -> dict[str, Any]:
        body = {"registers": registers, "confirm_high": confirm_high}
        return self._change("POST", f"/v1/supplies/{supply_id}/readings", customer_token, idempotency_key, body)

    def payments(self, customer_code: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/customers/{customer_code}/payments", customer_token=customer_token)

    def payment_notice(self, bill_id: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/bills/{bill_id}/payment-notice", customer_token=customer_token)

    def file_complaint(
        self, customer_code: str, customer_token: str, category: str, text: str, idempotency_key: str
    ) -> dict[str, Any]:
        body = {"category": category, "text": text}
        return self._change("POST", f"/v1/customers/{customer_code}/complaints", customer_token, idempotency_key, body)

    def direct_debit(self, customer_code: str, customer_token: str) -> dict[str, Any] | None:
        """The active SEPA mandate (IBAN masked), or None."""
        path = f"/v1/customers/{customer_code}/direct-debit"
        mandate: dict[str, Any] | None = self._request("GET", path, customer_token=customer_token)["mandate"]
        return mandate

    def create_mandate(
        self,
        customer_code: str,
        customer_token: str,
        iban: str,
        holder_name: str,
        idempotency_key: str,
        holder_fiscal_code: str | None = None,
    ) -> dict[str, Any]:
        body = {"iban": iban, "holder_name": holder_name}
        if holder_fiscal_code:
            body["holder_fiscal_code"] = holder_fiscal_code
        return self._change(
            "POST", f"/v1/customers/{customer_code}/direct-debit", customer_token, idempotency_key, body
        )

    def revoke_mandate(self, customer_code: str, customer_token: str, idempotency_key: str) -> dict[str, Any]:
        return self._change("DELETE", f"/v1/customers/{customer_code}/direct-debit", customer_token, idempotency_key)

    def paperless(self, customer_code: str, customer_token: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/customers/{customer_code}/paperless", customer_token=customer_token)

    def set_paperless(
        self, customer_code: str, customer_token: str, email: str, idempotency_key: str
    ) -> dict[str, Any]:
        body = {"email": email}
        return self._change("PUT", f"/v1/customers/{customer_code}/paperless", customer_token, idempotency_key, body)


def client_id_for(conversation_id: str) -> str:
    """The X-Client-Id of a conversation: stable for it, and telling the backend nothing about
    the conversation id itself."""
    return hashlib.sha256(f"conversation|{conversation_id}".encode()).hexdigest()[:40]


def new_idempotency_key(*parts: str) -> str:
    """A key derived from what makes a request unique (conversation, bill, choice): the same
    confirmation sent twice, or an action retried after a timeout, reuses it."""
    if not parts:
        return str(uuid.uuid4())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


async def run_blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking client call in a worker thread, so one slow backend call does not stall
    every conversation the action server is handling."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args, **kwargs))
