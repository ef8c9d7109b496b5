"""A verified customer's bills, and what paying one late would cost."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, load_bill, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.presenters import bill_out
from bot.billing.models import Bill
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["bills"])


@router.get("/v1/customers/{customer_code}/bills", response_model=schemas.BillsResponse)
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


@router.get("/v1/bills/{bill_id}/late-interest", response_model=schemas.LateInterestOut)
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
