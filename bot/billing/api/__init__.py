"""HTTP routes of the billing backend (the contract: docs/contracts.md).

Every endpoint but /health and the OpenAPI documents needs the service token; customer-scoped
ones also need the short-lived customer token from /v1/identity/verify and answer 403 when it
belongs to someone else. Errors are JSON `{"error": {"code", "message"}}`, never a 500 for
bad input. POSTs honour `Idempotency-Key`: a retry gets the first answer, nothing is created
twice. Run: `uvicorn --factory bot.billing.api:create_app`.
"""

from __future__ import annotations

import hmac
import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI, Header, Query
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.engine import Connection, Engine

from bot import clock, customer_area
from bot.billing import schemas
from bot.billing.api.deps import (
    SERVICE_TOKEN,
    Backend,
    EngineDep,
    SessionDep,
    SettingsDep,
    VerifiedCustomer,
    load_bill,
    owned_customer,
)
from bot.billing.api.errors import ERROR_RESPONSES, ApiError, install_error_handlers
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.api.presenters import bill_facts, bill_out, installment_out, plan_out, reason, store_out
from bot.billing.db import make_engine, session_factory, upgrade_schema
from bot.billing.models import Bill, Customer, Deferral, InstallmentPlan, PlanInstallment, Store, VerificationCounter
from bot.folding import fold_alnum
from bot.rules import engine as rules
from bot.settings import Settings, get_settings

__all__ = ["create_app"]
router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES)


# --------------------------------------------------------------------------- identity
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


@router.post("/v1/identity/verify", response_model=schemas.VerifyResponse, tags=["identity"])
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
        # the counted attempt stays counted; old windows go
        session.execute(delete(VerificationCounter).where(VerificationCounter.window_start < window_start))
        session.commit()
        raise ApiError(401, "identity_mismatch", "Customer code and fiscal code do not match.")
    # The customer proved who they are: their counter starts again. The client's does not
    # (a client that knows one pair must not refill its guesses on others); this success
    # just gives back the slot it took.
    session.execute(delete(VerificationCounter).where(VerificationCounter.key == customer_key))
    if client_key:
        session.execute(
            update(VerificationCounter)
            .where(VerificationCounter.key == client_key, VerificationCounter.attempts > 0)
            .values(attempts=VerificationCounter.attempts - 1)
        )
    session.commit()
    return _customer_token_for(customer, settings)


@router.post("/v1/identity/customer-area", response_model=schemas.VerifyResponse, tags=["identity"])
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


@router.get("/v1/customers/by-phone/{e164}", response_model=schemas.PhoneLookup, tags=["identity"])
def customer_by_phone(e164: str, session: SessionDep) -> Any:
    number = e164 if e164.startswith("+") else f"+{e164}"
    code = session.execute(select(Customer.code).where(Customer.phone_e164 == number)).scalar_one_or_none()
    if code is None:
        raise ApiError(404, "unknown_phone", "No customer is bound to this number.")
    return schemas.PhoneLookup(customer_code=code)


# --------------------------------------------------------------------------- bills
@router.get("/v1/customers/{customer_code}/bills", response_model=schemas.BillsResponse, tags=["bills"])
def list_bills(
    customer_code: str,
    verified: VerifiedCustomer,
    session: SessionDep,
    status: str = Query("open", pattern="^(open|paid|all)$"),
) -> Any:
    owned_customer(customer_code, verified)
    query = select(Bill).where(Bill.customer_code == customer_code).order_by(Bill.due_date)
    if status == "open":
        query = query.where(Bill.status.in_(["open", "arrears"]))
    elif status == "paid":
        query = query.where(Bill.status == "paid")
    bills = session.execute(query).scalars().all()
    return schemas.BillsResponse(customer_code=customer_code, bills=[bill_out(b) for b in bills])


@router.get("/v1/bills/{bill_id}/late-interest", response_model=schemas.LateInterestOut, tags=["bills"])
def late_interest(
    bill_id: str,
    verified: VerifiedCustomer,
    session: SessionDep,
    paid_on: date = Query(..., description="the day the customer would pay"),
) -> Any:
    bill = load_bill(session, bill_id, verified)
    if paid_on.year < 2000 or paid_on > bill.due_date + timedelta(days=3650):
        raise ApiError(422, "date_out_of_range", "paid_on is out of the supported range.")
    quote = rules.late_interest(bill.amount_cents, bill.due_date, paid_on, bill.customer.good_payer)
    return schemas.LateInterestOut(
        bill_id=bill.id,
        amount_cents=bill.amount_cents,
        due_date=bill.due_date,
        paid_on=paid_on,
        days_late=max(quote.days_late, 0),
        interest_cents=quote.interest_cents,
        rule=quote.rule,
        waiver=quote.waiver_id,
    )


# --------------------------------------------------------------------------- plans
def _not_eligible(refusal: rules.Refusal | None) -> ApiError:
    # an ineligible decision always carries its refusal; the fallback only satisfies the types
    return ApiError(409, "not_eligible", refusal.message if refusal else "Not eligible.")


@router.get("/v1/bills/{bill_id}/deferral-options", response_model=schemas.DeferralOptions, tags=["deferrals"])
def deferral_options(bill_id: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    bill = load_bill(session, bill_id, verified)
    decision = rules.deferral_options(bill_facts(bill), clock.today())
    return schemas.DeferralOptions(
        bill_id=bill.id,
        eligible=decision.eligible,
        current_due_date=bill.due_date,
        earliest_date=decision.earliest_date,
        latest_date=decision.latest_date,
        reason=reason(decision.refusal),
    )


@router.post("/v1/bills/{bill_id}/deferrals", response_model=schemas.DeferralOut, status_code=201, tags=["deferrals"])
def create_deferral(
    bill_id: str,
    payload: schemas.DeferralRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    bill = load_bill(session, bill_id, verified)

    def create() -> schemas.DeferralOut:
        today = clock.today()
        decision = rules.deferral_options(bill_facts(bill), today)
        if not decision.eligible or decision.earliest_date is None or decision.latest_date is None:
            raise _not_eligible(decision.refusal)
        if not decision.earliest_date <= payload.new_due_date <= decision.latest_date:
            raise ApiError(
                422,
                "date_out_of_range",
                f"La nuova scadenza deve essere tra {rules.italian_date(decision.earliest_date, 'il')} "
                f"e {rules.italian_date(decision.latest_date, 'il')}.",
            )
        deferral = Deferral(
            bill_id=bill.id, previous_due_date=bill.due_date, new_due_date=payload.new_due_date, created_on=today
        )
        bill.due_date = payload.new_due_date
        session.add(deferral)
        session.flush()
        return schemas.DeferralOut(
            id=deferral.id,
            bill_id=bill.id,
            previous_due_date=deferral.previous_due_date,
            new_due_date=deferral.new_due_date,
            created_on=today,
        )

    return idempotency.run({"bill": bill_id, **payload.dict()}, create)


@router.get("/v1/bills/{bill_id}/installment-options", response_model=schemas.InstallmentOptions, tags=["installments"])
def installment_options(bill_id: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    bill = load_bill(session, bill_id, verified)
    decision = rules.installment_options(bill_facts(bill), clock.today())
    return schemas.InstallmentOptions(
        bill_id=bill.id,
        eligible=decision.eligible,
        scheme=decision.scheme_id,
        scheme_label=decision.scheme_label,
        options=[
            schemas.InstallmentOptionOut(
                count=o.count,
                total_cents=o.total_cents,
                interest_cents=o.interest_cents,
                installments=[installment_out(i) for i in o.installments],
            )
            for o in decision.options
        ],
        reason=reason(decision.refusal),
    )


@router.post(
    "/v1/bills/{bill_id}/installment-plans", response_model=schemas.PlanOut, status_code=201, tags=["installments"]
)
def create_plan(
    bill_id: str,
    payload: schemas.PlanRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    bill = load_bill(session, bill_id, verified)

    def create() -> schemas.PlanOut:
        today = clock.today()
        decision = rules.installment_options(bill_facts(bill), today)
        if not decision.eligible:
            raise _not_eligible(decision.refusal)
        chosen = [o for o in decision.options if o.count == payload.installments]
        if not chosen:
            counts = ", ".join(str(o.count) for o in decision.options)
            raise ApiError(422, "count_not_offered", f"Numero di rate non previsto; possibili: {counts}.")
        plan = InstallmentPlan(bill_id=bill.id, scheme_id=decision.scheme_id, created_on=today)
        session.add(plan)
        session.flush()
        for i in chosen[0].installments:
            session.add(
                PlanInstallment(
                    plan_id=plan.id,
                    number=i.number,
                    due_date=i.due_date,
                    amount_cents=i.amount_cents,
                    interest_cents=i.interest_cents,
                )
            )
        session.flush()
        session.refresh(plan)
        return plan_out(plan)

    return idempotency.run({"bill": bill_id, **payload.dict()}, create)


@router.get(
    "/v1/customers/{customer_code}/installment-plans", response_model=schemas.PlansResponse, tags=["installments"]
)
def list_plans(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    owned_customer(customer_code, verified)
    plans = (
        session.execute(
            select(InstallmentPlan).join(Bill).where(Bill.customer_code == customer_code).order_by(InstallmentPlan.id)
        )
        .scalars()
        .all()
    )
    return schemas.PlansResponse(customer_code=customer_code, plans=[plan_out(p) for p in plans])


# --------------------------------------------------------------------------- reference
# Store.opening_hours keys, indexed by date.weekday()
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(math.sqrt(a))


@router.get("/v1/bonus-sociale/rules", response_model=schemas.BonusSocialeRulesOut, tags=["bonus sociale"])
def bonus_sociale(on: date | None = Query(None, description="default: the business day")) -> Any:
    day = on or clock.today()
    try:
        found = rules.bonus_sociale_rules(day)
    except LookupError:
        raise ApiError(404, "no_rules", f"No bonus sociale rules recorded for {day.isoformat()}.") from None
    return schemas.BonusSocialeRulesOut(
        on=found.on,
        isee_threshold_eur=float(found.isee_threshold_eur),
        large_family_isee_threshold_eur=float(found.large_family_isee_threshold_eur),
        large_family_min_children=found.large_family_min_children,
        automatic=found.automatic,
        how=found.how,
        disagio_fisico=found.disagio_fisico,
        deadlines=list(found.deadlines),
    )


@router.get("/v1/stores", response_model=schemas.StoresResponse, tags=["stores"])
def stores(
    session: SessionDep,
    city: str | None = Query(None, max_length=80),
    province: str | None = Query(None, max_length=80),
    lat: float | None = Query(None, ge=-90, le=90),
    lon: float | None = Query(None, ge=-180, le=180),
    limit: int = Query(5, ge=1, le=100),
) -> Any:
    if (lat is None) != (lon is None):
        raise ApiError(422, "invalid_request", "lat and lon go together.")
    found: list[Store] = list(session.execute(select(Store).order_by(Store.city, Store.name)).scalars())
    if city:
        wanted = fold_alnum(city)
        found = [s for s in found if fold_alnum(s.city) == wanted]
    if province:
        wanted = fold_alnum(province)
        found = [s for s in found if wanted in (fold_alnum(s.province), fold_alnum(s.province_code))]
    weekday = WEEKDAYS[clock.today().weekday()]
    if lat is None or lon is None:
        return schemas.StoresResponse(stores=[store_out(s, weekday, None) for s in found[:limit]])
    near = [store_out(s, weekday, distance_km(lat, lon, s.lat, s.lon)) for s in found]
    # by the distance shown (rounded to 100 m); ties keep the city and name order
    near.sort(key=lambda r: r.distance_km or 0.0)
    return schemas.StoresResponse(stores=near[:limit])


def create_app(settings: Settings | None = None) -> FastAPI:
    """The billing API; the database is upgraded to the latest migration on creation."""
    settings = settings or get_settings()
    if not settings.billing_api_token or not settings.billing_token_secret:
        raise RuntimeError("BILLING_API_TOKEN and BILLING_TOKEN_SECRET must be set (make run generates them).")
    upgrade_schema(settings.billing_database_url)
    engine = make_engine(settings.billing_database_url)

    app = FastAPI(
        title="Billing backend",
        version="1.0.0",
        description="Bills, deferrals, installment plans, late interest, bonus sociale and stores "
        "of the utility's customers. Money in euro cents; dates ISO 8601; answers for the business day.",
    )
    app.state.backend = Backend(settings=settings, engine=engine, sessions=session_factory(engine))
    install_error_handlers(app)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        return {"status": "ok", "business_date": clock.today().isoformat()}

    app.include_router(router)
    return app
