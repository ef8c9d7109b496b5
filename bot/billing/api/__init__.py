"""HTTP routes of the billing backend (contract: ../shared/design/contracts.md).

Every endpoint but /health and /openapi.json needs the service token; customer-scoped ones
also need the short-lived customer token from /v1/identity/verify and answer 403 when it
belongs to someone else. Errors are JSON `{"error": {"code", "message"}}`, never a 500 for
bad input. POSTs honour `Idempotency-Key`: a retry gets the first answer, nothing is created
twice. Run: `uvicorn --factory bot.billing.api:create_app`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional

import jwt
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import clock, customer_area
from bot.billing import schemas
from bot.billing.db import make_engine, session_factory, upgrade_schema
from bot.billing.models import (
    Bill,
    Customer,
    Deferral,
    IdempotencyRecord,
    InstallmentPlan,
    PlanInstallment,
    Store,
    VerificationCounter,
)
from bot.folding import fold_alnum
from bot.rules import engine as rules
from bot.settings import Settings, get_settings

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ERROR_RESPONSES: Dict[int, Dict[str, Any]] = {
    code: {"model": schemas.ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429)
}


class ApiError(Exception):
    """An error the API answers with `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body: Dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(status_code=status, content=body)


# --------------------------------------------------------------------------- helpers
def _bill_facts(bill: Bill) -> rules.BillFacts:
    return rules.BillFacts(
        amount_cents=bill.amount_cents,
        due_date=bill.due_date,
        status=bill.status,
        deferrals=len(bill.deferrals),
        has_plan=bool(bill.plans),
        kind=bill.kind,
        average_previous_cents=bill.average_previous_cents,
        estimated_bills_since_adjustment=bill.estimated_bills_since_adjustment,
    )


def _bill_out(bill: Bill) -> schemas.BillOut:
    point = bill.supply.point_id
    return schemas.BillOut(
        id=bill.id,
        supply=bill.supply.kind,
        pod=point if bill.supply.kind == "luce" else None,
        pdr=point if bill.supply.kind == "gas" else None,
        issue_date=bill.issue_date,
        due_date=bill.due_date,
        original_due_date=bill.original_due_date,
        amount_cents=bill.amount_cents,
        status=bill.status,
        paid_on=bill.paid_on,
        kind=bill.kind,
        deferred=bool(bill.deferrals),
        has_installment_plan=bool(bill.plans),
    )


def _installment_out(i: Any) -> schemas.InstallmentOut:
    return schemas.InstallmentOut(
        number=i.number, due_date=i.due_date, amount_cents=i.amount_cents, interest_cents=i.interest_cents
    )


def _plan_out(plan: InstallmentPlan) -> schemas.PlanOut:
    return schemas.PlanOut(
        id=plan.id,
        bill_id=plan.bill_id,
        scheme=plan.scheme_id,
        created_on=plan.created_on,
        total_cents=sum(i.amount_cents for i in plan.installments),
        installments=[_installment_out(i) for i in plan.installments],
    )


def _reason(refusal: Optional[rules.Refusal]) -> Optional[schemas.Reason]:
    return schemas.Reason(code=refusal.code, message=refusal.message) if refusal else None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


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
    statement = insert(table).values(key=key, attempts=1, window_start=now).on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"attempts": case((expired, 1), else_=table.c.attempts + 1),
              "window_start": case((expired, now), else_=table.c.window_start)},
        where=or_(expired, table.c.attempts < limit),
    )
    return connection.execute(statement).rowcount == 1


# --------------------------------------------------------------------------- the app
def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """The billing API; the database is upgraded to the latest migration on creation."""
    settings = settings or get_settings()
    if not settings.billing_api_token or not settings.billing_token_secret:
        raise RuntimeError(
            "BILLING_API_TOKEN and BILLING_TOKEN_SECRET must be set (make run generates them)."
        )
    upgrade_schema(settings.billing_database_url)
    engine = make_engine(settings.billing_database_url)
    factory = session_factory(engine)

    app = FastAPI(
        title="Billing backend",
        version="1.0.0",
        description="Bills, deferrals, installment plans, late interest, bonus sociale and stores "
        "of the utility's customers. Money in euro cents; dates ISO 8601; answers for the business day.",
    )

    # ----------------------------------------------------------------- errors
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = jsonable_encoder(exc.errors())
        return _error_response(422, "invalid_request", "The request is not valid.", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    # ----------------------------------------------------------------- dependencies
    def db() -> Any:
        with factory() as session:
            yield session

    def service_token(authorization: Optional[str] = Header(None, description="Bearer service token")) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), settings.billing_api_token.encode()):
            raise ApiError(401, "unauthorized", "A valid service token is required.")

    def customer_token(x_customer_token: Optional[str] = Header(None)) -> str:
        if not x_customer_token:
            raise ApiError(401, "customer_token_required", "The customer must be verified first.")
        try:
            # A token without an expiry or a subject is not one this service issued.
            claims = jwt.decode(x_customer_token, settings.billing_token_secret, algorithms=["HS256"],
                                options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "customer_token_expired", "The customer's verification has expired.")
        except jwt.PyJWTError:
            raise ApiError(401, "customer_token_invalid", "The customer token is not valid.")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise ApiError(401, "customer_token_invalid", "The customer token is not valid.")
        return claims["sub"]

    def owned_customer(customer_code: str, verified: str) -> None:
        if customer_code != verified:
            raise ApiError(403, "forbidden", "The customer token belongs to another customer.")

    def load_bill(session: Session, bill_id: str, verified: str) -> Bill:
        bill = session.get(Bill, bill_id)
        if bill is None:
            raise ApiError(404, "bill_not_found", "No such bill.")
        owned_customer(bill.customer_code, verified)
        return bill

    def idempotent(
        request: Request, session: Session, key: Optional[str], body: Dict[str, Any],
        create: Callable[[], Any], status: int = 201,
    ) -> JSONResponse:
        """Run `create` once per Idempotency-Key; replay the stored answer to retries."""
        if key is not None and not 1 <= len(key) <= 100:
            raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 100 characters.")
        scope = f"{request.method} {request.url.path}"
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if key is not None:
            # Answers are kept for the retention only: an expired key is a new request.
            session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.created_at < now - timedelta(hours=settings.idempotency_retention_hours)))
            session.commit()

        def replay() -> Optional[JSONResponse]:
            record = session.execute(
                select(IdempotencyRecord).where(IdempotencyRecord.key == key, IdempotencyRecord.scope == scope)
            ).scalar_one_or_none()
            if record is None:
                return None
            if record.request_hash != digest:
                raise ApiError(422, "idempotency_key_reused", "This Idempotency-Key was used for a different request.")
            return JSONResponse(status_code=record.status_code, content=record.body, headers={"Idempotent-Replay": "true"})

        if key is not None:
            previous = replay()
            if previous is not None:
                return previous
        try:
            content = jsonable_encoder(create())
            if key is not None:
                session.add(IdempotencyRecord(key=key, scope=scope, request_hash=digest, status_code=status,
                                              body=content, created_at=now))
            session.commit()
        except (ApiError, IntegrityError) as error:
            # A concurrent request with the same key may have completed meanwhile (and made this
            # one ineligible, or collided with it on a unique constraint): its answer is the answer.
            session.rollback()
            previous = replay() if key is not None else None
            if previous is not None:
                return previous
            if isinstance(error, ApiError):
                raise
            raise ApiError(409, "conflict", "The request conflicts with another one; retry.")
        return JSONResponse(status_code=status, content=content)

    auth = [Depends(service_token)]

    # ----------------------------------------------------------------- routes
    @app.get("/health", tags=["service"])
    def health() -> Dict[str, str]:
        return {"status": "ok", "business_date": clock.today().isoformat()}

    @app.post("/v1/identity/verify", response_model=schemas.VerifyResponse, dependencies=auth,
              responses=ERROR_RESPONSES, tags=["identity"])
    def verify(
        payload: schemas.VerifyRequest,
        x_client_id: Optional[str] = Header(
            None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
            description="Opaque id of the client the check is made for (the assistant sends a hash of the "
                        "conversation id): its checks are limited across customer codes too."),
        session: Session = Depends(db),
    ) -> Any:
        """Customer code and codice fiscale. A check is evaluated only after it was counted: at most
        VERIFY_MAX_FAILURES per customer code and VERIFY_CLIENT_MAX_FAILURES per client in
        VERIFY_WINDOW_MINUTES, however many arrive at once; the others get 429."""
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        window_start = now - timedelta(minutes=settings.verify_window_minutes)
        customer_key = f"customer:{payload.customer_code}"
        client_key = f"client:{x_client_id}" if x_client_id else None
        counters = ([(client_key, settings.verify_client_max_failures)] if client_key else []) + [
            (customer_key, settings.verify_max_failures)]
        with engine.connect() as connection:
            transaction = connection.begin()
            # All counters or none: a client refused on one customer does not spend the others.
            if not all(_reserve_slot(connection, key, limit, now, window_start) for key, limit in counters):
                transaction.rollback()
                raise ApiError(429, "too_many_attempts", "Too many failed attempts; try again later.")
            transaction.commit()
        customer = session.get(Customer, payload.customer_code)
        if customer is None or not hmac.compare_digest(customer.fiscal_code.encode(),
                                                       payload.fiscal_code.upper().encode()):
            # the counted attempt stays counted; old windows go
            session.execute(delete(VerificationCounter).where(VerificationCounter.window_start < window_start))
            session.commit()
            raise ApiError(401, "identity_mismatch", "Customer code and fiscal code do not match.")
        # The customer proved who they are: their counter starts again. The client's does not
        # (a client that knows one pair must not refill its guesses on others); this success
        # just gives back the slot it took.
        session.execute(delete(VerificationCounter).where(VerificationCounter.key == customer_key))
        if client_key:
            session.execute(update(VerificationCounter)
                            .where(VerificationCounter.key == client_key, VerificationCounter.attempts > 0)
                            .values(attempts=VerificationCounter.attempts - 1))
        session.commit()
        return customer_token_for(customer)

    def customer_token_for(customer: Customer) -> schemas.VerifyResponse:
        expires = datetime.now(timezone.utc) + timedelta(minutes=settings.customer_token_minutes)
        token = jwt.encode({"sub": customer.code, "exp": expires}, settings.billing_token_secret, algorithm="HS256")
        return schemas.VerifyResponse(customer_code=customer.code, name=customer.name,
                                      customer_token=token, expires_at=expires)

    @app.post("/v1/identity/customer-area", response_model=schemas.VerifyResponse, dependencies=auth,
              responses=ERROR_RESPONSES, tags=["identity"])
    def verify_customer_area(payload: schemas.CustomerAreaRequest, session: Session = Depends(db)) -> Any:
        """A customer logged in to the website's customer area: the site's signed token
        (bot/customer_area.py: HS256, sub, exp, iat, iss, aud all required, bounded age) stands
        for the identity check."""
        if not settings.customer_area_jwt_secret:
            raise ApiError(403, "customer_area_disabled", "Customer-area tokens are not configured.")
        try:
            claims = customer_area.decode(payload.token, settings)
        except customer_area.InvalidCustomerAreaToken:
            raise ApiError(401, "customer_area_token_invalid", "The customer-area token is not valid.")
        customer = session.get(Customer, claims["sub"])
        if customer is None:
            raise ApiError(401, "customer_area_token_invalid", "The customer-area token is not valid.")
        return customer_token_for(customer)

    @app.get("/v1/customers/by-phone/{e164}", response_model=schemas.PhoneLookup, dependencies=auth,
             responses=ERROR_RESPONSES, tags=["identity"])
    def customer_by_phone(e164: str, session: Session = Depends(db)) -> Any:
        number = e164 if e164.startswith("+") else f"+{e164}"
        code = session.execute(select(Customer.code).where(Customer.phone_e164 == number)).scalar_one_or_none()
        if code is None:
            raise ApiError(404, "unknown_phone", "No customer is bound to this number.")
        return schemas.PhoneLookup(customer_code=code)

    @app.get("/v1/customers/{customer_code}/bills", response_model=schemas.BillsResponse, dependencies=auth,
             responses=ERROR_RESPONSES, tags=["bills"])
    def list_bills(
        customer_code: str,
        status: str = Query("open", pattern="^(open|paid|all)$"),
        verified: str = Depends(customer_token),
        session: Session = Depends(db),
    ) -> Any:
        owned_customer(customer_code, verified)
        query = select(Bill).where(Bill.customer_code == customer_code).order_by(Bill.due_date)
        if status == "open":
            query = query.where(Bill.status.in_(["open", "arrears"]))
        elif status == "paid":
            query = query.where(Bill.status == "paid")
        bills = session.execute(query).scalars().all()
        return schemas.BillsResponse(customer_code=customer_code, bills=[_bill_out(b) for b in bills])

    @app.get("/v1/bills/{bill_id}/deferral-options", response_model=schemas.DeferralOptions, dependencies=auth,
             responses=ERROR_RESPONSES, tags=["deferrals"])
    def deferral_options(bill_id: str, verified: str = Depends(customer_token), session: Session = Depends(db)) -> Any:
        bill = load_bill(session, bill_id, verified)
        decision = rules.deferral_options(_bill_facts(bill), clock.today())
        return schemas.DeferralOptions(
            bill_id=bill.id, eligible=decision.eligible, current_due_date=bill.due_date,
            earliest_date=decision.earliest_date, latest_date=decision.latest_date, reason=_reason(decision.refusal),
        )

    @app.post("/v1/bills/{bill_id}/deferrals", response_model=schemas.DeferralOut, status_code=201,
              dependencies=auth, responses=ERROR_RESPONSES, tags=["deferrals"])
    def create_deferral(
        bill_id: str,
        payload: schemas.DeferralRequest,
        request: Request,
        idempotency_key: Optional[str] = Header(None),
        verified: str = Depends(customer_token),
        session: Session = Depends(db),
    ) -> Any:
        bill = load_bill(session, bill_id, verified)

        def create() -> schemas.DeferralOut:
            today = clock.today()
            decision = rules.deferral_options(_bill_facts(bill), today)
            if not decision.eligible:
                raise ApiError(409, "not_eligible", decision.refusal.message)
            if not decision.earliest_date <= payload.new_due_date <= decision.latest_date:
                raise ApiError(
                    422, "date_out_of_range",
                    f"La nuova scadenza deve essere tra {rules.italian_date(decision.earliest_date, 'il')} "
                    f"e {rules.italian_date(decision.latest_date, 'il')}.",
                )
            deferral = Deferral(bill_id=bill.id, previous_due_date=bill.due_date,
                                new_due_date=payload.new_due_date, created_on=today)
            bill.due_date = payload.new_due_date
            session.add(deferral)
            session.flush()
            return schemas.DeferralOut(id=deferral.id, bill_id=bill.id, previous_due_date=deferral.previous_due_date,
                                       new_due_date=deferral.new_due_date, created_on=today)

        return idempotent(request, session, idempotency_key, {"bill": bill_id, **payload.dict()}, create)

    @app.get("/v1/bills/{bill_id}/installment-options", response_model=schemas.InstallmentOptions,
             dependencies=auth, responses=ERROR_RESPONSES, tags=["installments"])
    def installment_options(bill_id: str, verified: str = Depends(customer_token), session: Session = Depends(db)) -> Any:
        bill = load_bill(session, bill_id, verified)
        decision = rules.installment_options(_bill_facts(bill), clock.today())
        return schemas.InstallmentOptions(
            bill_id=bill.id, eligible=decision.eligible, scheme=decision.scheme_id, scheme_label=decision.scheme_label,
            options=[
                schemas.InstallmentOptionOut(
                    count=o.count, total_cents=o.total_cents, interest_cents=o.interest_cents,
                    installments=[_installment_out(i) for i in o.installments],
                )
                for o in decision.options
            ],
            reason=_reason(decision.refusal),
        )

    @app.post("/v1/bills/{bill_id}/installment-plans", response_model=schemas.PlanOut, status_code=201,
              dependencies=auth, responses=ERROR_RESPONSES, tags=["installments"])
    def create_plan(
        bill_id: str,
        payload: schemas.PlanRequest,
        request: Request,
        idempotency_key: Optional[str] = Header(None),
        verified: str = Depends(customer_token),
        session: Session = Depends(db),
    ) -> Any:
        bill = load_bill(session, bill_id, verified)

        def create() -> schemas.PlanOut:
            today = clock.today()
            decision = rules.installment_options(_bill_facts(bill), today)
            if not decision.eligible:
                raise ApiError(409, "not_eligible", decision.refusal.message)
            chosen = [o for o in decision.options if o.count == payload.installments]
            if not chosen:
                counts = ", ".join(str(o.count) for o in decision.options)
                raise ApiError(422, "count_not_offered", f"Numero di rate non previsto; possibili: {counts}.")
            plan = InstallmentPlan(bill_id=bill.id, scheme_id=decision.scheme_id, created_on=today)
            session.add(plan)
            session.flush()
            for i in chosen[0].installments:
                session.add(PlanInstallment(plan_id=plan.id, number=i.number, due_date=i.due_date,
                                            amount_cents=i.amount_cents, interest_cents=i.interest_cents))
            session.flush()
            session.refresh(plan)
            return _plan_out(plan)

        return idempotent(request, session, idempotency_key, {"bill": bill_id, **payload.dict()}, create)

    @app.get("/v1/customers/{customer_code}/installment-plans", response_model=schemas.PlansResponse,
             dependencies=auth, responses=ERROR_RESPONSES, tags=["installments"])
    def list_plans(customer_code: str, verified: str = Depends(customer_token), session: Session = Depends(db)) -> Any:
        owned_customer(customer_code, verified)
        plans = session.execute(
            select(InstallmentPlan).join(Bill).where(Bill.customer_code == customer_code).order_by(InstallmentPlan.id)
        ).scalars().all()
        return schemas.PlansResponse(customer_code=customer_code, plans=[_plan_out(p) for p in plans])

    @app.get("/v1/bills/{bill_id}/late-interest", response_model=schemas.LateInterestOut, dependencies=auth,
             responses=ERROR_RESPONSES, tags=["bills"])
    def late_interest(
        bill_id: str,
        paid_on: date = Query(..., description="the day the customer would pay"),
        verified: str = Depends(customer_token),
        session: Session = Depends(db),
    ) -> Any:
        bill = load_bill(session, bill_id, verified)
        if paid_on.year < 2000 or paid_on > bill.due_date + timedelta(days=3650):
            raise ApiError(422, "date_out_of_range", "paid_on is out of the supported range.")
        quote = rules.late_interest(bill.amount_cents, bill.due_date, paid_on, bill.customer.good_payer)
        return schemas.LateInterestOut(
            bill_id=bill.id, amount_cents=bill.amount_cents, due_date=bill.due_date, paid_on=paid_on,
            days_late=max(quote.days_late, 0), interest_cents=quote.interest_cents, rule=quote.rule, waiver=quote.waiver_id,
        )

    @app.get("/v1/bonus-sociale/rules", response_model=schemas.BonusSocialeRulesOut, dependencies=auth,
             responses=ERROR_RESPONSES, tags=["bonus sociale"])
    def bonus_sociale(on: Optional[date] = Query(None, description="default: the business day")) -> Any:
        day = on or clock.today()
        try:
            found = rules.bonus_sociale_rules(day)
        except LookupError:
            raise ApiError(404, "no_rules", f"No bonus sociale rules recorded for {day.isoformat()}.")
        return schemas.BonusSocialeRulesOut(
            on=found.on, isee_threshold_eur=float(found.isee_threshold_eur),
            large_family_isee_threshold_eur=float(found.large_family_isee_threshold_eur),
            large_family_min_children=found.large_family_min_children, automatic=found.automatic,
            how=found.how, disagio_fisico=found.disagio_fisico, deadlines=list(found.deadlines),
        )

    @app.get("/v1/stores", response_model=schemas.StoresResponse, dependencies=auth, responses=ERROR_RESPONSES,
             tags=["stores"])
    def stores(
        city: Optional[str] = Query(None, max_length=80),
        province: Optional[str] = Query(None, max_length=80),
        lat: Optional[float] = Query(None, ge=-90, le=90),
        lon: Optional[float] = Query(None, ge=-180, le=180),
        limit: int = Query(5, ge=1, le=100),
        session: Session = Depends(db),
    ) -> Any:
        if (lat is None) != (lon is None):
            raise ApiError(422, "invalid_request", "lat and lon go together.")
        found: List[Store] = list(session.execute(select(Store).order_by(Store.city, Store.name)).scalars())
        if city:
            wanted = fold_alnum(city)
            found = [s for s in found if fold_alnum(s.city) == wanted]
        if province:
            wanted = fold_alnum(province)
            found = [s for s in found if wanted in (fold_alnum(s.province), fold_alnum(s.province_code))]
        weekday = WEEKDAYS[clock.today().weekday()]
        results = []
        for s in found:
            distance = _distance_km(lat, lon, s.lat, s.lon) if lat is not None else None
            results.append(schemas.StoreOut(
                id=s.id, name=s.name, address=s.address, city=s.city, province=s.province, phone=s.phone,
                services=list(s.services or []), opening_hours=s.opening_hours or {},
                open_today=[schemas.OpeningPeriod(opens=a, closes=b) for a, b in (s.opening_hours or {}).get(weekday, [])],
                distance_km=round(distance, 1) if distance is not None else None, sample_data=s.sample,
            ))
        if lat is not None:
            results.sort(key=lambda r: r.distance_km)
        return schemas.StoresResponse(stores=results[:limit])

    return app
