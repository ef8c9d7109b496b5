"""Typed dependencies of the billing routes: settings, database, the two tokens, ownership.

`create_app` keeps one `Backend` (settings, engine, sessions) in `app.state`; routes ask for it
through these annotations instead of closing over it, so each resource lives in its own module.

`owned_customer` and `load_bill` are plain functions the routes call, not dependencies: FastAPI
solves dependencies before it validates a route's query and body, so as dependencies they would
answer 403/404 where a malformed request now gets its 422.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Header, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.billing.api.errors import ApiError
from bot.billing.models import Bill
from bot.settings import Settings


@dataclass(frozen=True)
class Backend:
    """What every request of one app shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker


def request_backend(request: Request) -> Backend:
    state: Backend = request.app.state.backend
    return state


def request_settings(request: Request) -> Settings:
    return request_backend(request).settings


def request_engine(request: Request) -> Engine:
    return request_backend(request).engine


def request_session(request: Request) -> Iterator[Session]:
    """One session per request (FastAPI caches it: every dependency of a request shares it)."""
    with request_backend(request).sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(request_settings)]
EngineDep = Annotated[Engine, Depends(request_engine)]
SessionDep = Annotated[Session, Depends(request_session)]


def service_token(
    settings: SettingsDep, authorization: str | None = Header(None, description="Bearer service token")
) -> None:
    """Every route but /health: the caller is the assistant (or another service of the utility)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.billing_api_token.encode()):
        raise ApiError(401, "unauthorized", "A valid service token is required.")


def customer_token(settings: SettingsDep, x_customer_token: str | None = Header(None)) -> str:
    """The customer code a token from /v1/identity/verify (or customer-area) was issued for."""
    if not x_customer_token:
        raise ApiError(401, "customer_token_required", "The customer must be verified first.")
    try:
        # A token without an expiry or a subject is not one this service issued.
        claims = jwt.decode(
            x_customer_token, settings.billing_token_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "customer_token_expired", "The customer's verification has expired.") from None
    except jwt.PyJWTError:
        raise ApiError(401, "customer_token_invalid", "The customer token is not valid.") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise ApiError(401, "customer_token_invalid", "The customer token is not valid.")
    return subject


VerifiedCustomer = Annotated[str, Depends(customer_token)]
# The routers' dependency: nothing answers without the service token.
SERVICE_TOKEN = [Depends(service_token)]


def owned_customer(customer_code: str, verified: str) -> None:
    if customer_code != verified:
        raise ApiError(403, "forbidden", "The customer token belongs to another customer.")


def load_bill(session: Session, bill_id: str, verified: str) -> Bill:
    """The bill, if it exists (404) and belongs to the verified customer (403)."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise ApiError(404, "bill_not_found", "No such bill.")
    owned_customer(bill.customer_code, verified)
    return bill
