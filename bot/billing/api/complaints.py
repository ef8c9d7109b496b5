"""Written complaints (reclamo scritto, issue 12): registered once, with a protocol number and
the answer's regulated due date (ARERA's TIQV, bot/rules/policy.yml `complaints`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from bot import clock
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.models import Complaint
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["complaints"])


def complaint_out(complaint: Complaint) -> schemas.ComplaintOut:
    terms = rules.complaint_terms(complaint.received_on)
    return schemas.ComplaintOut(
        protocol=complaint.protocol,
        category=complaint.category,
        received_on=complaint.received_on,
        answer_due_on=complaint.answer_due_on,
        answer_days=terms.answer_days,
        indemnity_eur=terms.indemnity_eur,
        regulation=terms.source,
        regulation_verified=terms.verified,
    )


@router.post("/v1/customers/{customer_code}/complaints", response_model=schemas.ComplaintOut, status_code=201)
def file_complaint(
    customer_code: str,
    payload: schemas.ComplaintRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    """Register a written complaint; a retry with the same Idempotency-Key gets the same protocol."""
    owned_customer(customer_code, verified)

    def create() -> schemas.ComplaintOut:
        today = clock.today()
        complaint = Complaint(
            protocol=uuid.uuid4().hex[:20],  # placeholder until the id is known
            customer_code=customer_code,
            category=payload.category,
            text=payload.text,
            received_on=today,
            answer_due_on=rules.complaint_terms(today).answer_due_on,
            created_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        session.add(complaint)
        session.flush()
        # "R2026-00042": no digit run long enough for the console's masking to hide it
        complaint.protocol = f"R{today.year}-{complaint.id:05d}"
        session.flush()
        return complaint_out(complaint)

    return idempotency.run({"customer": customer_code, **payload.dict()}, create)


@router.get("/v1/customers/{customer_code}/complaints", response_model=list[schemas.ComplaintOut])
def complaints(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    owned_customer(customer_code, verified)
    found = session.execute(
        select(Complaint).where(Complaint.customer_code == customer_code).order_by(Complaint.id)
    ).scalars()
    return [complaint_out(c) for c in found]
