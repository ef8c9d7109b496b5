""" "Why is this bill so high?" (issue 12): a bill against the earlier bills of its supply.

The comparison (which earlier bills, the thresholds, the reasons) is the rules engine's, from
policy.yml `bill_explanation`; this route only reads the bills and presents the result.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from sqlalchemy import select

from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, load_bill
from bot.billing.api.errors import ERROR_RESPONSES
from bot.billing.api.presenters import bill_out
from bot.billing.models import Bill
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["bill explanation"])


def history(bill: Bill) -> rules.BillHistory:
    return rules.BillHistory(
        amount_cents=bill.amount_cents,
        consumption=bill.consumption,
        estimated=bill.reading_source == "estimated",
        kind=bill.kind,
        adjustment_cents=bill.adjustment_cents,
    )


@router.get("/v1/bills/{bill_id}/comparison", response_model=schemas.BillComparisonOut)
def comparison(
    verified: VerifiedCustomer,
    session: SessionDep,
    bill_id: str = Path(..., min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$"),
) -> Any:
    """The bill, the supply's earlier bills (newest first) and what explains the difference."""
    bill = load_bill(session, bill_id, verified)
    earlier = (
        session.execute(
            select(Bill)
            .where(Bill.supply_id == bill.supply_id, Bill.issue_date < bill.issue_date)
            .order_by(Bill.issue_date.desc())
            .limit(rules.bill_comparison_depth())
        )
        .scalars()
        .all()
    )
    found = rules.compare_bill(history(bill), [history(b) for b in earlier])
    return schemas.BillComparisonOut(
        bill=bill_out(bill),
        previous=[bill_out(b) for b in earlier],
        average_previous_cents=found.average_previous_cents,
        average_previous_consumption=found.average_previous_consumption,
        difference_cents=found.difference_cents,
        difference_percent=found.difference_percent,
        consumption_difference_percent=found.consumption_difference_percent,
        previous_estimated=found.previous_estimated,
        reasons=list(found.reasons),
    )
