"""Who the customer is: the identity check, the customer-area login, the WhatsApp number's hint.

The first two issue the short-lived customer token the customer-scoped routes require
(HS256, `sub` = customer code, `exp`). The phone lookup only suggests a customer code; the
codice fiscale is still asked.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

import jwt
from fastapi import APIRouter, Header
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from bot import customer_area
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, EngineDep, SessionDep, SettingsDep
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.models import Customer, Supply, VerificationCounter
from bot.settings import Settings

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["identity"])


def _reserve_slot(connection: Connection, key: str, limit: int, now: datetime, window_start: datetime) -> bool:
    """Count one attempt on `key` unless `limit` attempts were counted since `window_start`:
    one upsert, atomic on SQLite (writers serialised) and PostgreSQL (row lock on conflict).
    A counter whose window has passed starts again at 1."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = VerificationCounter.__table__
    expired = table.c.window_start < window_start
    statement = (
        insert(table)
        .values(key=key, attempts=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((expired, 1), else_=table.c.attempts + 1),
                "window_start": case((expired, now), else_=table.c.window_start),
            },
            where=or_(expired, table.c.attempts < limit),
        )
    )
    return bool(connection.execute(statement).rowcount == 1)


def _reserve_all(engine: Engine, counters: list[tuple[str, int]], now: datetime, window_start: datetime) -> bool:
    """All counters or none: a client refused on one customer does not spend the others."""
    with engine.connect() as connection:
        transaction = connection.begin()
        if not all(_reserve_slot(connection, key, limit, now, window_start) for key, limit in counters):
            transaction.rollback()
            return False
        transaction.commit()
    return True


def _customer_token_for(customer: Customer, settings: Settings) -> schemas.VerifyResponse:
    expires = datetime.now(timezone.utc) + timedelta(minutes=settings.customer_token_minutes)
    token = jwt.encode({"sub": customer.code, "exp": expires}, settings.billing_token_secret, algorithm="HS256")
    return schemas.VerifyResponse(
        customer_code=customer.code, name=customer.name, customer_token=token, expires_at=expires
    )


@router.post("/v1/identity/verify", response_model=schemas.VerifyResponse)
def verify(
    payload: schemas.VerifyRequest,
    settings: SettingsDep,
    engine: EngineDep,
    session: SessionDep,
    x_client_id: str | None = Header(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Opaque id of the client the check is made for (the assistant sends a hash of the "
        "conversation id): its checks are limited across customer codes too.",
    ),
) -> Any:
    """Customer code and codice fiscale. A check is evaluated only after it was counted: at most
    VERIFY_MAX_FAILURES per customer code and VERIFY_CLIENT_MAX_FAILURES per client in
    VERIFY_WINDOW_MINUTES, however many arrive at once; the others get 429."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    window_start = now - timedelta(minutes=settings.verify_window_minutes)
    customer_key = f"customer:{payload.customer_code}"
    client_key = f"client:{x_client_id}" if x_client_id else None
    counters = [(client_key, settings.verify_client_max_failures)] if client_key else []
    counters.append((customer_key, settings.verify_max_failures))
    if not _reserve_all(engine, counters, now, window_start):
        raise ApiError(429, "too_many_attempts", "Too many failed attempts; try again later.")
    customer = session.get(Customer, payload.customer_code)
    if customer is None or not hmac.compare_digest(customer.fiscal_code.encode(), payload.fiscal_code.upper().encode()):
        _refuse(session, window_start, "Customer code and fiscal code do not match.")
    _settle(session, customer_key, client_key)
    return _customer_token_for(customer, settings)


def _refuse(session: Session, window_start: datetime, message: str) -> NoReturn:
    """A wrong pair: the counted attempt stays counted; old windows go."""
    session.execute(delete(VerificationCounter).where(VerificationCounter.window_start < window_start))
    session.commit()
    raise ApiError(401, "identity_mismatch", message)


def _settle(session: Session, proven_key: str, client_key: str | None) -> None:
    """The customer proved who they are: their counter starts again. The client's does not (a
    client that knows one pair must not refill its guesses on others); this success just gives
    back the slot it took."""
    session.execute(delete(VerificationCounter).where(VerificationCounter.key == proven_key))
    if client_key:
        session.execute(
            update(VerificationCounter)
            .where(VerificationCounter.key == client_key, VerificationCounter.attempts > 0)
            .values(attempts=VerificationCounter.attempts - 1)
        )
    session.commit()


@router.post("/v1/identity/customer-area", response_model=schemas.VerifyResponse)
def verify_customer_area(payload: schemas.CustomerAreaRequest, settings: SettingsDep, session: SessionDep) -> Any:
    """A customer logged in to the website's customer area: the site's signed token
    (bot/customer_area.py: HS256, sub, exp, iat, iss, aud all required, bounded age) stands
    for the identity check."""
    if not settings.customer_area_jwt_secret:
        raise ApiError(403, "customer_area_disabled", "Customer-area tokens are not configured.")
    try:
        claims = customer_area.decode(payload.token, settings)
    except customer_area.InvalidCustomerAreaToken:
        raise ApiError(401, "customer_area_token_invalid", "The customer-area token is not valid.") from None
    customer = session.get(Customer, claims["sub"])
    if customer is None:
        raise ApiError(401, "customer_area_token_invalid", "The customer-area token is not valid.")
    return _customer_token_for(customer, settings)


@router.get("/v1/customers/by-phone/{e164}", response_model=schemas.PhoneLookup)
def customer_by_phone(e164: str, session: SessionDep) -> Any:
    number = e164 if e164.startswith("+") else f"+{e164}"
    code = session.execute(select(Customer.code).where(Customer.phone_e164 == number)).scalar_one_or_none()
    if code is None:
        raise ApiError(404, "unknown_phone", "No customer is bound to this number.")
    return schemas.PhoneLookup(customer_code=code)


@router.post("/v1/identity/verify-supply", response_model=schemas.VerifyResponse)
def verify_supply(
    payload: schemas.VerifySupplyRequest,
    settings: SettingsDep,
    engine: EngineDep,
    session: SessionDep,
    x_client_id: str | None = Header(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="As for /v1/identity/verify: the same per-client counter.",
    ),
) -> Any:
    """Codice fiscale and the POD or PDR of one of the customer's supplies (issue 13: a customer
    without the codice cliente at hand). The same atomic counters as /v1/identity/verify: the
    client's (shared with it, so switching endpoints buys no guesses) and one per supply point,
    both counted before the check; 401 on a mismatch, 429 beyond the limits."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    window_start = now - timedelta(minutes=settings.verify_window_minutes)
    point = payload.supply_point.upper()
    point_key = f"supply:{point}"
    client_key = f"client:{x_client_id}" if x_client_id else None
    counters = [(client_key, settings.verify_client_max_failures)] if client_key else []
    counters.append((point_key, settings.verify_max_failures))
    if not _reserve_all(engine, counters, now, window_start):
        raise ApiError(429, "too_many_attempts", "Too many failed attempts; try again later.")
    supply = session.execute(select(Supply).where(Supply.point_id == point)).scalar_one_or_none()
    customer = session.get(Customer, supply.customer_code) if supply is not None else None
    if customer is None or not hmac.compare_digest(customer.fiscal_code.encode(), payload.fiscal_code.upper().encode()):
        _refuse(session, window_start, "Fiscal code and supply point do not match.")
    _settle(session, point_key, client_key)
    return _customer_token_for(customer, settings)
