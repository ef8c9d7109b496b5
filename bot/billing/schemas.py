"""Request and response bodies of the billing API (pydantic 1.10, as pinned by Rasa)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, Field, conint, constr

if TYPE_CHECKING:  # mypy reads constrained strings as str (no pydantic plugin: it crashes mypy 2)
    CustomerCode: TypeAlias = str
    FiscalCode: TypeAlias = str
    JwtText: TypeAlias = str
else:
    # ASCII letters and digits only: both are compared byte for byte (a non-ASCII codice
    # fiscale used to reach hmac.compare_digest and answer 500).
    CustomerCode = constr(strip_whitespace=True, min_length=1, max_length=16, regex=r"^[A-Za-z0-9]+$")
    FiscalCode = constr(strip_whitespace=True, min_length=1, max_length=32, regex=r"^[A-Za-z0-9]+$")
    # a JWT's alphabet only (base64url and dots): anything else is a 422 before any decoding
    JwtText = constr(min_length=1, max_length=4096, regex=r"^[A-Za-z0-9_.-]+$")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Reason(BaseModel):
    code: str
    message: str


class VerifyRequest(BaseModel):
    customer_code: CustomerCode
    fiscal_code: FiscalCode


class VerifySupplyRequest(BaseModel):
    """Issue 13: a customer without the codice cliente at hand identifies with the codice
    fiscale and the POD (luce) or PDR (gas) of one of their supplies."""

    fiscal_code: FiscalCode
    supply_point: str = Field(
        min_length=14,
        max_length=15,
        regex=r"^(?:[Ii][Tt][0-9]{3}[Ee][0-9A-Za-z]{8,9}|[0-9]{14})$",
        description="POD (IT + 3 digits + E + 8-9 characters) or PDR (14 digits)",
    )


class CustomerAreaRequest(BaseModel):
    token: JwtText


class VerifyResponse(BaseModel):
    customer_code: str
    name: str
    customer_token: str
    expires_at: datetime


class BillOut(BaseModel):
    id: str
    supply: str = Field(description="luce or gas")
    pod: str | None = None
    pdr: str | None = None
    issue_date: date
    due_date: date
    original_due_date: date
    amount_cents: int
    status: str = Field(description="open, paid or arrears")
    paid_on: date | None = None
    kind: str = Field(description="regular or adjustment (conguaglio)")
    deferred: bool
    has_installment_plan: bool
    # what the bill shows (issue 12): the period, the consumption billed (kWh or m³), the readings
    # it starts and ends at and whether the closing one was the distributor's or an estimate,
    # the conguaglio part of the amount
    period_start: date | None = None
    period_end: date | None = None
    consumption: int | None = None
    unit: str | None = Field(None, description="kWh (luce) or m³ (gas)")
    reading_start: int | None = None
    reading_end: int | None = None
    reading_source: str | None = Field(None, description="actual or estimated")
    adjustment_cents: int | None = None


class BillsResponse(BaseModel):
    customer_code: str
    bills: list[BillOut]


class DeferralOptions(BaseModel):
    bill_id: str
    eligible: bool
    current_due_date: date
    earliest_date: date | None = None
    latest_date: date | None = None
    reason: Reason | None = None


class DeferralRequest(BaseModel):
    new_due_date: date


class DeferralOut(BaseModel):
    id: int
    bill_id: str
    previous_due_date: date
    new_due_date: date
    created_on: date


class InstallmentOut(BaseModel):
    number: int
    due_date: date
    amount_cents: int
    interest_cents: int


class InstallmentOptionOut(BaseModel):
    count: int
    total_cents: int
    interest_cents: int
    installments: list[InstallmentOut]


class InstallmentOptions(BaseModel):
    bill_id: str
    eligible: bool
    scheme: str | None = None
    scheme_label: str | None = None
    options: list[InstallmentOptionOut] = []
    reason: Reason | None = None


class PlanRequest(BaseModel):
    installments: int = Field(ge=1, le=36, description="number of installments, one of the options")


class PlanOut(BaseModel):
    id: int
    bill_id: str
    scheme: str
    created_on: date
    total_cents: int
    installments: list[InstallmentOut]


class PlansResponse(BaseModel):
    customer_code: str
    plans: list[PlanOut]


class LateInterestOut(BaseModel):
    bill_id: str
    amount_cents: int
    due_date: date
    paid_on: date
    days_late: int
    interest_cents: int
    rule: str
    waiver: str | None = None


class BonusSocialeRulesOut(BaseModel):
    on: date
    isee_threshold_eur: float
    large_family_isee_threshold_eur: float
    large_family_min_children: int
    automatic: bool
    how: str
    disagio_fisico: str
    deadlines: list[str]


class OpeningPeriod(BaseModel):
    opens: str
    closes: str


class StoreOut(BaseModel):
    id: int
    name: str
    address: str
    city: str
    province: str
    phone: str | None = None
    services: list[str]
    opening_hours: dict
    open_today: list[OpeningPeriod]
    distance_km: float | None = None
    sample_data: bool
    # issue 16: the hours on the day asked (`on`, default today) and the holiday or short day
    # that changed them ("Natale", "Vigilia di Natale")
    open_on: list[OpeningPeriod] = Field(default_factory=list, description="the hours on the day asked (`on`)")
    special_day: str | None = Field(default=None, description="the holiday or short day that changed them")


class PlaceOut(BaseModel):
    """A comune (ISTAT's list) that `near` resolved to."""

    name: str
    province: str
    province_code: str
    region: str
    has_position: bool


class StoresResponse(BaseModel):
    stores: list[StoreOut]
    # issue 16 (`near`, `on`): optional additions, a client of the first contract reads `stores`
    on: date | None = Field(default=None, description="the day open_on refers to")
    place: PlaceOut | None = Field(default=None, description="the comune `near` resolved to (one)")
    matched: str | None = Field(default=None, description="how `near` matched: exact, cap or fuzzy (misspelled)")
    candidates: list[PlaceOut] = Field(
        default_factory=list, description="when `near` fits several comuni: ask which (stores is then empty)"
    )
    nearest_by: str | None = Field(
        default=None,
        description="distance (from the comune), province or region (it has no position), "
        "province_centre (no store in its region); none when near was not given",
    )


class PhoneLookup(BaseModel):
    customer_code: str


# --------------------------------------------------------------------------- self-service (issue 12)
if TYPE_CHECKING:
    RegisterName: TypeAlias = str
    ReadingValue: TypeAlias = int
    ComplaintCategory: TypeAlias = str
    ComplaintText: TypeAlias = str
else:
    RegisterName = constr(regex=r"^(total|F1|F2|F3)$")
    # whole kWh or m³, as the meter's digits before the decimal point
    ReadingValue = conint(ge=0, le=99_999_999)
    ComplaintCategory = constr(regex=r"^(fatturazione|letture|pagamenti|contratto|servizio|altro)$")
    ComplaintText = constr(strip_whitespace=True, min_length=10, max_length=4000)


class MeterReadingOut(BaseModel):
    read_on: date
    source: str = Field(description="actual (the distributor's), estimated, or customer (a self-reading)")
    registers: dict[str, int] = Field(description='{"total": n} or {"F1": n, "F2": n, "F3": n}; kWh or m³')


class MeterOut(BaseModel):
    supply_id: int
    supply: str = Field(description="luce or gas")
    unit: str = Field(description="kWh or m³")
    registers: list[str] = Field(description='["total"] or ["F1", "F2", "F3"]')
    last_reading: MeterReadingOut | None = None
    next_reading_date: date | None = None
    window_opens: date | None = None
    window_closes: date | None = None
    window_open: bool


class MetersResponse(BaseModel):
    customer_code: str
    meters: list[MeterOut]


class ReadingRequest(BaseModel):
    registers: dict[RegisterName, ReadingValue] = Field(..., description="at most the 4 register names: bounded")
    confirm_high: bool = Field(False, description="the customer confirmed a reading above the consumption profile")


class ReadingOut(BaseModel):
    id: int
    supply_id: int
    supply: str
    read_on: date
    registers: dict[str, int]
    consumed: int = Field(description="units since the previous reading")
    used_for_reading_of: date = Field(description="the scheduled reading (and so the bill) this one replaces")


class PaymentOut(BaseModel):
    bill_id: str
    paid_on: date
    registered_on: date
    method: str
    amount_cents: int


class UnregisteredBill(BaseModel):
    bill_id: str
    supply: str
    amount_cents: int
    due_date: date
    status: str


class PaymentsResponse(BaseModel):
    customer_code: str
    payments: list[PaymentOut]
    open_bills: list[UnregisteredBill] = Field(description="bills with no payment registered yet")
    registration_days: dict[str, int] = Field(description="working days a payment takes to reach us, by method")


class PaymentNoticeOut(BaseModel):
    bill_id: str
    notice_code: str = Field(description="pagoPA codice avviso, 18 digits")
    creditor_tax_code: str = Field(description="codice fiscale of the creditor (the utility)")
    amount_cents: int
    due_date: date


class ComplaintRequest(BaseModel):
    category: ComplaintCategory
    text: ComplaintText


class ComplaintOut(BaseModel):
    protocol: str
    category: str
    received_on: date
    answer_due_on: date
    answer_days: int
    indemnity_eur: int
    regulation: str
    regulation_verified: bool


# --------------------------------------------------------------------------- bill copy and explanation (issue 12)
class DownloadLinkOut(BaseModel):
    """A short-lived signed token that stands for one bill's PDF: it carries neither the
    customer token nor the customer code (the web service's /bolletta/{token} serves it)."""

    bill_id: str
    token: str
    expires_at: datetime


class BillComparisonOut(BaseModel):
    """A bill against the earlier bills of its supply (policy.yml `bill_explanation`)."""

    bill: BillOut
    previous: list[BillOut]
    average_previous_cents: int | None = None
    average_previous_consumption: int | None = None
    difference_cents: int
    difference_percent: int | None = None
    consumption_difference_percent: int | None = None
    previous_estimated: int
    reasons: list[str] = Field(
        description="adjustment, higher_consumption, estimated_reading, not_higher, no_history (most telling first)"
    )


# --------------------------------------------------------------------------- direct debit, paperless (issue 12)
if TYPE_CHECKING:
    IbanText: TypeAlias = str
    HolderName: TypeAlias = str
    EmailText: TypeAlias = str
else:
    # checked with python-stdnum in the route (checksum, the country's format): a 422 with a code
    IbanText = constr(strip_whitespace=True, min_length=5, max_length=42, regex=r"^[A-Za-z0-9 ]+$")
    # letters (accented too), spaces, apostrophes, dots and hyphens; at least two words (the route)
    HolderName = constr(strip_whitespace=True, min_length=3, max_length=70, regex=r"^[A-Za-zÀ-ÖØ-öø-ÿ' .-]+$")
    # syntax checked with email-validator in the route (RFC 5321 bounds the length)
    EmailText = constr(strip_whitespace=True, min_length=3, max_length=254)


class MandateRequest(BaseModel):
    iban: IbanText
    holder_name: HolderName = Field(description="the account holder, as the bank knows them")
    holder_fiscal_code: FiscalCode | None = Field(
        None, description="the holder's codice fiscale: required when the holder is not the customer"
    )


class MandateOut(BaseModel):
    reference: str = Field(description="the mandate reference (UMR) the bank shows")
    status: str = Field(description="active, revoked or replaced")
    iban_masked: str = Field(description="country, check digits hidden, last four characters: the IBAN never leaves")
    iban_country: str
    holder_name: str
    holder_is_customer: bool
    signed_on: date
    active_from: date = Field(description="bills issued from this day are debited")
    first_debited_bill_on: date = Field(description="when the first debited bill is expected")
    revoked_on: date | None = None
    not_debited_from: date | None = Field(None, description="after a revocation: bills issued from this day")
    next_bill_after_revocation_on: date | None = None
    open_bills: list[str] = Field(description="bills already issued and open: paid as before")


class DirectDebitResponse(BaseModel):
    customer_code: str
    mandate: MandateOut | None = Field(description="the active mandate, if any")


class PaperlessRequest(BaseModel):
    email: EmailText


class PaperlessOut(BaseModel):
    customer_code: str
    paperless: bool
    email_masked: str | None = Field(description="the address, masked: m***@example.it")
    changed: bool = Field(False, description="this request changed the address or turned paperless on")
