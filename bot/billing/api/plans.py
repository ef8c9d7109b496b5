"""Deferrals and installment plans: what the rules offer on a bill, and agreeing to it.

The rules engine (bot/rules/engine.py) decides for the business day; the creating POSTs ask it
again inside the idempotent step, so a retry racing a first request cannot pass a stale check.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from bot import clock
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, load_bill, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.api.presenters import bill_facts, installment_out, plan_out, reason
from bot.billing.models import Bill, Deferral, InstallmentPlan, PlanInstallment
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES)


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
