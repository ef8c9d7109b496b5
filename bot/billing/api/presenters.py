"""Database rows to the rules engine's facts and to the API's response bodies.

The routes decide; these only translate, so a field renamed in the contract changes here.
"""

from __future__ import annotations

from bot.billing import schemas
from bot.billing.models import Bill, InstallmentPlan, PlanInstallment, Store, Supply
from bot.billing.opening import DayHours
from bot.rules import engine as rules


def bill_facts(bill: Bill) -> rules.BillFacts:
    """What the rules engine needs to know about a bill to decide on it."""
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


def unit(supply: Supply) -> str:
    """What a supply's meter counts in."""
    return "kWh" if supply.kind == "luce" else "m³"


def bill_out(bill: Bill) -> schemas.BillOut:
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
        period_start=bill.period_start,
        period_end=bill.period_end,
        consumption=bill.consumption,
        unit=unit(bill.supply),
        reading_start=bill.reading_start,
        reading_end=bill.reading_end,
        reading_source=bill.reading_source,
        adjustment_cents=bill.adjustment_cents,
    )


def installment_out(installment: rules.Installment | PlanInstallment) -> schemas.InstallmentOut:
    """One installment, offered (the engine's) or agreed (a plan's row)."""
    return schemas.InstallmentOut(
        number=installment.number,
        due_date=installment.due_date,
        amount_cents=installment.amount_cents,
        interest_cents=installment.interest_cents,
    )


def plan_out(plan: InstallmentPlan) -> schemas.PlanOut:
    return schemas.PlanOut(
        id=plan.id,
        bill_id=plan.bill_id,
        scheme=plan.scheme_id,
        created_on=plan.created_on,
        total_cents=sum(i.amount_cents for i in plan.installments),
        installments=[installment_out(i) for i in plan.installments],
    )


def reason(refusal: rules.Refusal | None) -> schemas.Reason | None:
    return schemas.Reason(code=refusal.code, message=refusal.message) if refusal else None


def _periods(hours: DayHours) -> list[schemas.OpeningPeriod]:
    return [schemas.OpeningPeriod(opens=a, closes=b) for a, b in hours.periods]


def store_out(store: Store, today: DayHours, asked: DayHours, distance_km: float | None) -> schemas.StoreOut:
    """A store with its hours today and on the day asked (bot/billing/opening.py) and its
    distance, when one was asked."""
    return schemas.StoreOut(
        id=store.id,
        name=store.name,
        address=store.address,
        city=store.city,
        province=store.province,
        phone=store.phone,
        services=list(store.services or []),
        opening_hours=store.opening_hours or {},
        open_today=_periods(today),
        distance_km=round(distance_km, 1) if distance_km is not None else None,
        sample_data=store.sample,
        open_on=_periods(asked),
        special_day=asked.special,
    )
