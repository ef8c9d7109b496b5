"""SEPA direct debit (domiciliazione bancaria, issue 12): the customer's mandate, created once,
revoked on request.

The IBAN is checked with python-stdnum (ISO 13616 checksum and the country's BBAN format) and
must belong to a SEPA country (policy.yml `direct_debit.sepa_countries`). The account holder is
named; when the holder is not the customer (other name, other codice fiscale) the holder's
codice fiscale is required, since the holder is who signs the mandate. The IBAN is stored here
and never answered: the API shows it masked (bot.masking.mask_iban).

A mandate applies to the bills issued from the signing day plus `activation_days`; a revocation
to the bills issued from its day plus `revocation_days` (policy.yml `direct_debit`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.it import codicefiscale

from bot import clock
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.models import Bill, Customer, DirectDebitMandate
from bot.customer_data import iban_of, same_person
from bot.masking import mask_iban
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["direct debit"])


def valid_iban(value: str) -> str:
    """The compact IBAN, or a 422 saying what is wrong with it."""
    check = iban_of(value)
    if check.problem == "not_sepa":
        raise ApiError(422, "iban_not_sepa", "Direct debit needs an account in a SEPA country.")
    if check.iban is None:
        raise ApiError(422, "iban_invalid", "The IBAN fails its checksum or its country's format.")
    return check.iban


def holder_is_customer(customer: Customer, payload: schemas.MandateRequest) -> bool:
    """Whether the customer is the account holder; a different holder must give a codice fiscale."""
    if len(payload.holder_name.split()) < 2:
        raise ApiError(422, "holder_name_incomplete", "The holder's first and last name are needed.")
    fiscal = (payload.holder_fiscal_code or "").upper()
    if fiscal and not codicefiscale.is_valid(fiscal):
        raise ApiError(422, "holder_fiscal_code_invalid", "The holder's codice fiscale is not valid.")
    if fiscal:
        return fiscal == customer.fiscal_code.upper()
    if same_person(payload.holder_name, customer.name):
        return True
    raise ApiError(
        422, "holder_fiscal_code_required", "The holder is not the customer: the holder's codice fiscale is needed."
    )


def active_mandate(session: Session, customer_code: str) -> DirectDebitMandate | None:
    return session.execute(
        select(DirectDebitMandate).where(DirectDebitMandate.active_customer == customer_code)
    ).scalar_one_or_none()


def _bills(session: Session, customer_code: str) -> tuple[date | None, list[str]]:
    """The last bill's issue date and the open bills (issued: paid as before)."""
    last = session.execute(select(func.max(Bill.issue_date)).where(Bill.customer_code == customer_code)).scalar()
    open_ids = session.execute(
        select(Bill.id).where(Bill.customer_code == customer_code, Bill.status != "paid").order_by(Bill.due_date)
    ).scalars()
    return last, list(open_ids)


def mandate_out(session: Session, mandate: DirectDebitMandate) -> schemas.MandateOut:
    terms = rules.direct_debit_terms(mandate.signed_on)
    last_issue, open_bills = _bills(session, mandate.customer_code)
    not_debited_from = next_after = None
    if mandate.revoked_on is not None:
        not_debited_from = mandate.revoked_on + timedelta(days=terms.revocation_days)
        next_after = rules.next_bill_issue(last_issue, not_debited_from, terms.billing_period_days)
    return schemas.MandateOut(
        reference=mandate.reference,
        status=mandate.status,
        iban_masked=mask_iban(mandate.iban),
        iban_country=mandate.iban[:2],
        holder_name=mandate.holder_name,
        holder_is_customer=mandate.holder_is_customer,
        signed_on=mandate.signed_on,
        active_from=mandate.active_from,
        first_debited_bill_on=rules.next_bill_issue(last_issue, mandate.active_from, terms.billing_period_days),
        revoked_on=mandate.revoked_on,
        not_debited_from=not_debited_from,
        next_bill_after_revocation_on=next_after,
        open_bills=open_bills,
    )


@router.get("/v1/customers/{customer_code}/direct-debit", response_model=schemas.DirectDebitResponse)
def direct_debit(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    """The customer's active mandate (IBAN masked), or null."""
    owned_customer(customer_code, verified)
    mandate = active_mandate(session, customer_code)
    return schemas.DirectDebitResponse(
        customer_code=customer_code, mandate=mandate_out(session, mandate) if mandate else None
    )


@router.post("/v1/customers/{customer_code}/direct-debit", response_model=schemas.MandateOut, status_code=201)
def create_mandate(
    customer_code: str,
    payload: schemas.MandateRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    """Activate direct debit on this IBAN. Refusals: `iban_invalid`, `iban_not_sepa`,
    `holder_name_incomplete`, `holder_fiscal_code_invalid`, `holder_fiscal_code_required` (422).
    The same IBAN and holder as the active mandate is that mandate (a retry without the key);
    another IBAN replaces it. A retry with the same Idempotency-Key gets the first answer."""
    owned_customer(customer_code, verified)
    iban = valid_iban(payload.iban)
    customer = session.get(Customer, customer_code)
    if customer is None:
        raise ApiError(404, "customer_not_found", "No such customer.")
    is_customer = holder_is_customer(customer, payload)
    holder_fiscal = None if is_customer else (payload.holder_fiscal_code or "").upper()

    def create() -> schemas.MandateOut:
        today = clock.today()
        current = active_mandate(session, customer_code)
        if current is not None and current.iban == iban and same_person(current.holder_name, payload.holder_name):
            return mandate_out(session, current)  # already active: nothing new
        if current is not None:  # another account: the new mandate replaces it
            current.status, current.active_customer, current.revoked_on = "replaced", None, today
            session.flush()
        mandate = DirectDebitMandate(
            reference=uuid.uuid4().hex[:20],  # placeholder until the id is known
            customer_code=customer_code,
            active_customer=customer_code,
            iban=iban,
            holder_name=" ".join(payload.holder_name.split()),
            holder_fiscal_code=holder_fiscal,
            holder_is_customer=is_customer,
            status="active",
            signed_on=today,
            active_from=today + timedelta(days=rules.direct_debit_terms(today).activation_days),
            created_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        session.add(mandate)
        session.flush()
        # "SDD2026-00042": no digit run long enough for the console's masking to hide it
        mandate.reference = f"SDD{today.year}-{mandate.id:05d}"
        session.flush()
        return mandate_out(session, mandate)

    # the IBAN enters the key's request hash (a digest), never the stored answer
    body = {"customer": customer_code, "iban": iban, "holder": payload.holder_name, "fiscal": holder_fiscal}
    return idempotency.run(body, create)


@router.delete("/v1/customers/{customer_code}/direct-debit", response_model=schemas.MandateOut)
def revoke_mandate(
    customer_code: str, idempotency: IdempotencyDep, verified: VerifiedCustomer, session: SessionDep
) -> Any:
    """Revoke the active mandate: `no_mandate` (404) when there is none. A retry with the same
    Idempotency-Key gets the first answer (not a 404)."""
    owned_customer(customer_code, verified)

    def revoke() -> schemas.MandateOut:
        mandate = active_mandate(session, customer_code)
        if mandate is None:
            raise ApiError(404, "no_mandate", "The customer has no active direct debit.")
        mandate.status, mandate.active_customer, mandate.revoked_on = "revoked", None, clock.today()
        session.flush()
        return mandate_out(session, mandate)

    return idempotency.run({"customer": customer_code, "revoke": True}, revoke, status=200)
