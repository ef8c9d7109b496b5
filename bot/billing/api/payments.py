"""Payments (issue 12): what is registered against the customer's bills, and the pagoPA notice.

"I already paid" is answered from here: the payments registered with their date and method,
the bills still without one, and how long each method takes to reach the utility.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, load_bill, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.models import Bill, Payment
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["payments"])


@router.get("/v1/customers/{customer_code}/payments", response_model=schemas.PaymentsResponse)
def payments(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    """Payments registered for the customer's bills (newest first) and the open bills without one."""
    owned_customer(customer_code, verified)
    found = session.execute(
        select(Payment, Bill)
        .join(Bill, Payment.bill_id == Bill.id)
        .where(Bill.customer_code == customer_code)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    ).all()
    paid_ids = {payment.bill_id for payment, _ in found}
    unpaid = session.execute(
        select(Bill)
        .where(Bill.customer_code == customer_code, Bill.status.in_(["open", "arrears"]))
        .order_by(Bill.due_date)
    ).scalars()
    return schemas.PaymentsResponse(
        customer_code=customer_code,
        payments=[
            schemas.PaymentOut(
                bill_id=p.bill_id,
                paid_on=p.paid_on,
                registered_on=p.registered_on,
                method=p.method,
                amount_cents=p.amount_cents,
            )
            for p, _ in found
        ],
        open_bills=[
            schemas.UnregisteredBill(
                bill_id=b.id, supply=b.supply.kind, amount_cents=b.amount_cents, due_date=b.due_date, status=b.status
            )
            for b in unpaid
            if b.id not in paid_ids
        ],
        registration_days={m["id"]: rules.payment_registration_days(m["id"]) for m in rules.payment_methods()},
    )


@router.get("/v1/bills/{bill_id}/payment-notice", response_model=schemas.PaymentNoticeOut)
def payment_notice(bill_id: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    """The pagoPA data to pay an open bill; `already_paid` (409) for a paid one."""
    bill = load_bill(session, bill_id, verified)
    if bill.status == "paid":
        raise ApiError(409, "already_paid", "The bill is paid.")
    if not bill.notice_code:
        raise ApiError(409, "no_notice", "This bill has no pagoPA notice.")
    return schemas.PaymentNoticeOut(
        bill_id=bill.id,
        notice_code=bill.notice_code,
        creditor_tax_code=rules.creditor_tax_code(),
        amount_cents=bill.amount_cents,
        due_date=bill.due_date,
    )
