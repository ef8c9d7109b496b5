"""Request and response bodies of the billing API (pydantic 1.10, as pinned by Rasa)."""

from __future__ import annotations

from datetime import date, datetime
from typing import List, Optional

from pydantic import BaseModel, Field, constr


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Reason(BaseModel):
    code: str
    message: str


class VerifyRequest(BaseModel):
    # ASCII letters and digits only: both are compared byte for byte (a non-ASCII codice
    # fiscale used to reach hmac.compare_digest and answer 500).
    customer_code: constr(strip_whitespace=True, min_length=1, max_length=16, regex=r"^[A-Za-z0-9]+$")
    fiscal_code: constr(strip_whitespace=True, min_length=1, max_length=32, regex=r"^[A-Za-z0-9]+$")


class CustomerAreaRequest(BaseModel):
    # a JWT's alphabet only (base64url and dots): anything else is a 422 before any decoding
    token: constr(min_length=1, max_length=4096, regex=r"^[A-Za-z0-9_.-]+$")


class VerifyResponse(BaseModel):
    customer_code: str
    name: str
    customer_token: str
    expires_at: datetime


class BillOut(BaseModel):
    id: str
    supply: str = Field(description="luce or gas")
    pod: Optional[str] = None
    pdr: Optional[str] = None
    issue_date: date
    due_date: date
    original_due_date: date
    amount_cents: int
    status: str = Field(description="open, paid or arrears")
    paid_on: Optional[date] = None
    kind: str = Field(description="regular or adjustment (conguaglio)")
    deferred: bool
    has_installment_plan: bool


class BillsResponse(BaseModel):
    customer_code: str
    bills: List[BillOut]


class DeferralOptions(BaseModel):
    bill_id: str
    eligible: bool
    current_due_date: date
    earliest_date: Optional[date] = None
    latest_date: Optional[date] = None
    reason: Optional[Reason] = None


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
    installments: List[InstallmentOut]


class InstallmentOptions(BaseModel):
    bill_id: str
    eligible: bool
    scheme: Optional[str] = None
    scheme_label: Optional[str] = None
    options: List[InstallmentOptionOut] = []
    reason: Optional[Reason] = None


class PlanRequest(BaseModel):
    installments: int = Field(ge=1, le=36, description="number of installments, one of the options")


class PlanOut(BaseModel):
    id: int
    bill_id: str
    scheme: str
    created_on: date
    total_cents: int
    installments: List[InstallmentOut]


class PlansResponse(BaseModel):
    customer_code: str
    plans: List[PlanOut]


class LateInterestOut(BaseModel):
    bill_id: str
    amount_cents: int
    due_date: date
    paid_on: date
    days_late: int
    interest_cents: int
    rule: str
    waiver: Optional[str] = None


class BonusSocialeRulesOut(BaseModel):
    on: date
    isee_threshold_eur: float
    large_family_isee_threshold_eur: float
    large_family_min_children: int
    automatic: bool
    how: str
    disagio_fisico: str
    deadlines: List[str]


class OpeningPeriod(BaseModel):
    opens: str
    closes: str


class StoreOut(BaseModel):
    id: int
    name: str
    address: str
    city: str
    province: str
    phone: Optional[str] = None
    services: List[str]
    opening_hours: dict
    open_today: List[OpeningPeriod]
    distance_km: Optional[float] = None
    sample_data: bool


class StoresResponse(BaseModel):
    stores: List[StoreOut]


class PhoneLookup(BaseModel):
    customer_code: str
