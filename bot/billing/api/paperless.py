"""Paperless billing (bolletta via e-mail, issue 12): the address bills are sent to.

The address is checked with email-validator, syntax only (`check_deliverability=False`: no DNS
query while answering), and stored normalised (the domain in lower case). Setting the address
the customer already has changes nothing; the API answers with the address masked.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.models import Customer
from bot.customer_data import normalised_email
from bot.masking import mask_email

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["paperless"])


def valid_email(value: str) -> str:
    """The address as it will be stored, or `email_invalid` (422)."""
    email = normalised_email(value)
    if email is None:
        raise ApiError(422, "email_invalid", "The e-mail address is not valid.")
    return email


def paperless_out(customer: Customer, changed: bool = False) -> schemas.PaperlessOut:
    return schemas.PaperlessOut(
        customer_code=customer.code,
        paperless=bool(customer.paperless),
        email_masked=mask_email(customer.email) if customer.email else None,
        changed=changed,
    )


def _customer(session: SessionDep, customer_code: str) -> Customer:
    customer = session.get(Customer, customer_code)
    if customer is None:
        raise ApiError(404, "customer_not_found", "No such customer.")
    return customer


@router.get("/v1/customers/{customer_code}/paperless", response_model=schemas.PaperlessOut)
def paperless(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    """Whether bills go by e-mail, and to which address (masked)."""
    owned_customer(customer_code, verified)
    return paperless_out(_customer(session, customer_code))


@router.put("/v1/customers/{customer_code}/paperless", response_model=schemas.PaperlessOut)
def set_paperless(
    customer_code: str,
    payload: schemas.PaperlessRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    """Send the bills to this address instead of the post: `email_invalid` (422) when its syntax
    is not an address. Sending it again changes nothing (`changed` false)."""
    owned_customer(customer_code, verified)
    email = valid_email(payload.email)
    customer = _customer(session, customer_code)

    def update() -> schemas.PaperlessOut:
        changed = not customer.paperless or customer.email != email
        customer.email, customer.paperless = email, True
        session.flush()
        return paperless_out(customer, changed)

    return idempotency.run({"customer": customer_code, "email": email}, update, status=200)
