"""A copy of a bill (issue 12): its PDF, and short-lived signed download links for the website.

`GET /v1/bills/{id}/pdf` needs the customer token (403 across customers). The website cannot
hold a customer token, so `GET /v1/bills/{id}/download-link` (customer token) issues a signed
token (bot/billing/links.py) that stands for that one bill for BILL_LINK_MINUTES; the web
service's `/bolletta/{token}` passes it to `GET /v1/bill-downloads/{token}` (service token
only), which checks the signature (403 `link_invalid`) and the age (410 `link_expired`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from bot import clock, formatters
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, SettingsDep, VerifiedCustomer, load_bill
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.presenters import bill_out
from bot.billing.links import LinkExpired, LinkInvalid, bill_of, sign
from bot.billing.models import Bill
from bot.billing.pdf import render

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["bill copies"])
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}, "description": "PDF"}
}
BILL_ID = Path(..., min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")


def bill_pdf(bill: Bill) -> Response:
    title, rows, note = formatters.bill_document(
        bill_out(bill).dict(), bill.customer.name, bill.customer_code, clock.today()
    )
    body = render(title, rows, note, formatters.BILL_ISSUER)
    filename = formatters.bill_document_file({"id": bill.id})
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/v1/bills/{bill_id}/pdf", response_class=Response, responses=PDF_RESPONSE)
def pdf(verified: VerifiedCustomer, session: SessionDep, bill_id: str = BILL_ID) -> Response:
    """The bill's PDF copy: period, amounts, readings, due date, POD/PDR, customer."""
    return bill_pdf(load_bill(session, bill_id, verified))


@router.get("/v1/bills/{bill_id}/download-link", response_model=schemas.DownloadLinkOut)
def download_link(
    verified: VerifiedCustomer, session: SessionDep, settings: SettingsDep, bill_id: str = BILL_ID
) -> Any:
    """A signed token for the bill's PDF, valid BILL_LINK_MINUTES; it names the bill only."""
    bill = load_bill(session, bill_id, verified)
    link = sign(bill.id, settings.billing_token_secret, settings.bill_link_minutes)
    return schemas.DownloadLinkOut(bill_id=bill.id, token=link.token, expires_at=link.expires_at)


@router.get("/v1/bill-downloads/{token}", response_class=Response, responses=PDF_RESPONSE)
def download(
    session: SessionDep,
    settings: SettingsDep,
    token: str = Path(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$"),
) -> Response:
    """The PDF a download link stands for: 403 `link_invalid` (not ours), 410 `link_expired`."""
    try:
        bill_id = bill_of(token, settings.billing_token_secret, settings.bill_link_minutes)
    except LinkExpired:
        raise ApiError(410, "link_expired", "The download link has expired.") from None
    except LinkInvalid:
        raise ApiError(403, "link_invalid", "The download link is not valid.") from None
    bill = session.get(Bill, bill_id)
    if bill is None:  # reseeded or removed since the link was made
        raise ApiError(410, "link_expired", "The bill of this link is no longer available.")
    return bill_pdf(bill)
