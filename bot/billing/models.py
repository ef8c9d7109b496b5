"""Tables of the billing backend (SQLAlchemy 1.4 used in 2.0 style). Money in euro cents."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"

    code = Column(String(16), primary_key=True)
    name = Column(String(120), nullable=False)
    fiscal_code = Column(String(16), nullable=False, index=True)
    phone_e164 = Column(String(20), nullable=True, unique=True)
    # Paid on time for the previous two years: the legal rate for the first 10 days of delay.
    good_payer = Column(Boolean, nullable=False, default=False)
    # Paperless billing (issue 12): the bill goes to this address instead of the post.
    email = Column(String(254), nullable=True)
    paperless = Column(Boolean, nullable=False, default=False)

    supplies = relationship("Supply", back_populates="customer", order_by="Supply.id")
    bills = relationship("Bill", back_populates="customer", order_by="Bill.due_date")


class Supply(Base):
    __tablename__ = "supplies"

    id = Column(Integer, primary_key=True)
    customer_code = Column(String(16), ForeignKey("customers.code"), nullable=False, index=True)
    kind = Column(String(4), nullable=False)  # luce | gas
    point_id = Column(String(20), nullable=False, unique=True)  # POD (luce) or PDR (gas)
    # Self-reading (issue 12): 1 = one register (gas in m³, or a single-rate electricity meter),
    # 3 = F1/F2/F3. The reading window is policy.yml's, around the next scheduled reading.
    registers = Column(Integer, nullable=False, default=1)
    next_reading_date = Column(Date, nullable=True)
    # kWh or Smc a year: the consumption profile a reading is checked against
    annual_consumption = Column(Integer, nullable=False, default=2700)

    customer = relationship("Customer", back_populates="supplies")
    readings = relationship("MeterReading", back_populates="supply", order_by="MeterReading.read_on")


class Bill(Base):
    __tablename__ = "bills"

    id = Column(String(20), primary_key=True)
    customer_code = Column(String(16), ForeignKey("customers.code"), nullable=False, index=True)
    supply_id = Column(Integer, ForeignKey("supplies.id"), nullable=False)
    issue_date = Column(Date, nullable=False)
    due_date = Column(Date, nullable=False)
    original_due_date = Column(Date, nullable=False)
    amount_cents = Column(Integer, nullable=False)
    status = Column(String(10), nullable=False, default="open")  # open | paid | arrears
    paid_on = Column(Date, nullable=True)
    kind = Column(String(12), nullable=False, default="regular")  # regular | adjustment
    average_previous_cents = Column(Integer, nullable=True)
    estimated_bills_since_adjustment = Column(Integer, nullable=False, default=0)
    # pagoPA codice avviso (18 digits) printed on the bill's payment slip (issue 12)
    notice_code = Column(String(18), nullable=True)
    # What the bill shows (issue 12, bill copy and "why is it so high"): the period billed, the
    # consumption billed in it (kWh or Smc), the readings it starts and ends at (whole units, all
    # registers summed) and whether the closing one was the distributor's (actual) or an
    # estimate; the part of the amount that is a conguaglio of earlier estimated bills.
    period_start = Column(Date, nullable=True)
    period_end = Column(Date, nullable=True)
    consumption = Column(Integer, nullable=True)
    reading_start = Column(Integer, nullable=True)
    reading_end = Column(Integer, nullable=True)
    reading_source = Column(String(10), nullable=True)  # actual | estimated
    adjustment_cents = Column(Integer, nullable=True)

    customer = relationship("Customer", back_populates="bills")
    supply = relationship("Supply")
    deferrals = relationship("Deferral", back_populates="bill", order_by="Deferral.id")
    plans = relationship("InstallmentPlan", back_populates="bill", order_by="InstallmentPlan.id")


class Deferral(Base):
    __tablename__ = "deferrals"

    id = Column(Integer, primary_key=True)
    bill_id = Column(String(20), ForeignKey("bills.id"), nullable=False, index=True)
    previous_due_date = Column(Date, nullable=False)
    new_due_date = Column(Date, nullable=False)
    created_on = Column(Date, nullable=False)

    bill = relationship("Bill", back_populates="deferrals")


class InstallmentPlan(Base):
    __tablename__ = "installment_plans"
    # One plan per bill, also under concurrent requests without an Idempotency-Key.
    __table_args__ = (UniqueConstraint("bill_id", name="uq_installment_plans_bill_id"),)

    id = Column(Integer, primary_key=True)
    bill_id = Column(String(20), ForeignKey("bills.id"), nullable=False)
    scheme_id = Column(String(40), nullable=False)
    created_on = Column(Date, nullable=False)

    bill = relationship("Bill", back_populates="plans")
    installments = relationship("PlanInstallment", order_by="PlanInstallment.number")


class PlanInstallment(Base):
    __tablename__ = "plan_installments"

    plan_id = Column(Integer, ForeignKey("installment_plans.id"), primary_key=True)
    number = Column(Integer, primary_key=True)
    due_date = Column(Date, nullable=False)
    amount_cents = Column(Integer, nullable=False)
    interest_cents = Column(Integer, nullable=False, default=0)


# --------------------------------------------------------------------------- self-service (issue 12)
class MeterReading(Base):
    """A reading of a supply's meter: the distributor's (actual), an estimate, or the customer's."""

    __tablename__ = "meter_readings"

    id = Column(Integer, primary_key=True)
    supply_id = Column(Integer, ForeignKey("supplies.id"), nullable=False, index=True)
    read_on = Column(Date, nullable=False)
    source = Column(String(10), nullable=False)  # actual | estimated | customer
    # {"F1": 1234, "F2": 567, "F3": 890} or {"total": 1234}: whole kWh or m³
    registers = Column(JSON, nullable=False)
    created_at = Column(DateTime, nullable=False)

    supply = relationship("Supply", back_populates="readings")


class Payment(Base):
    """A payment registered against a bill (the bank's or Poste's flow has reached the utility)."""

    __tablename__ = "payments"

    id = Column(Integer, primary_key=True)
    bill_id = Column(String(20), ForeignKey("bills.id"), nullable=False, index=True)
    paid_on = Column(Date, nullable=False)
    registered_on = Column(Date, nullable=False)
    method = Column(String(20), nullable=False)  # policy.yml payments.methods ids
    amount_cents = Column(Integer, nullable=False)


class Complaint(Base):
    """A written complaint (reclamo scritto) with its protocol number."""

    __tablename__ = "complaints"

    id = Column(Integer, primary_key=True)
    protocol = Column(String(20), nullable=False, unique=True)
    customer_code = Column(String(16), ForeignKey("customers.code"), nullable=False, index=True)
    category = Column(String(20), nullable=False)
    text = Column(Text, nullable=False)
    received_on = Column(Date, nullable=False)
    answer_due_on = Column(Date, nullable=False)
    created_at = Column(DateTime, nullable=False)


class DirectDebitMandate(Base):
    """A SEPA direct debit mandate (domiciliazione bancaria, issue 12). The IBAN is kept here
    only: the API answers with it masked. One active mandate per customer: `active_customer`
    holds the customer code while the mandate is active (NULL once revoked or replaced), and
    is unique, so concurrent activations cannot leave two."""

    __tablename__ = "direct_debit_mandates"

    id = Column(Integer, primary_key=True)
    reference = Column(String(35), nullable=False, unique=True)  # the mandate reference (UMR)
    customer_code = Column(String(16), ForeignKey("customers.code"), nullable=False, index=True)
    active_customer = Column(String(16), nullable=True, unique=True)
    iban = Column(String(34), nullable=False)  # compact, upper case; never leaves the backend
    holder_name = Column(String(70), nullable=False)
    holder_fiscal_code = Column(String(16), nullable=True)  # when the holder is not the customer
    holder_is_customer = Column(Boolean, nullable=False)
    status = Column(String(10), nullable=False)  # active | revoked | replaced
    signed_on = Column(Date, nullable=False)
    active_from = Column(Date, nullable=False)  # bills issued from this day are debited
    revoked_on = Column(Date, nullable=True)
    created_at = Column(DateTime, nullable=False)


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to every retry."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("key", "scope"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(100), nullable=False)
    scope = Column(String(200), nullable=False)  # method and path: a key is per endpoint
    request_hash = Column(String(64), nullable=False)
    status_code = Column(Integer, nullable=False)
    body = Column(JSON, nullable=False)
    # UTC; records older than IDEMPOTENCY_RETENTION_HOURS are purged (never all at once).
    created_at = Column(DateTime, nullable=False, index=True)


class VerificationCounter(Base):
    """Identity checks in the current window, per customer code ("customer:<code>") and per
    client ("client:<X-Client-Id>"). A check first reserves a slot with one atomic upsert
    (`attempts < limit`), so parallel guesses cannot all be evaluated before any is counted."""

    __tablename__ = "verification_counters"

    key = Column(String(160), primary_key=True)
    attempts = Column(Integer, nullable=False)
    window_start = Column(DateTime, nullable=False, index=True)  # UTC


class Store(Base):
    __tablename__ = "stores"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    address = Column(String(200), nullable=False)
    city = Column(String(80), nullable=False, index=True)
    province = Column(String(80), nullable=False, index=True)
    province_code = Column(String(2), nullable=False)
    lat = Column(Float, nullable=False)
    lon = Column(Float, nullable=False)
    phone = Column(String(30), nullable=True)
    services = Column(JSON, nullable=False, default=list)
    # {"mon": [["08:30", "13:00"], ["14:30", "17:30"]], ..., "sun": []}
    opening_hours = Column(JSON, nullable=False, default=dict)
    sample = Column(Boolean, nullable=False, default=True)
    notes = Column(Text, nullable=True)


class SeedRun(Base):
    """When the demo data was (re)seeded: demo bills are relative to that business day."""

    __tablename__ = "seed_runs"

    id = Column(Integer, primary_key=True)
    business_date = Column(Date, nullable=False)
    at = Column(DateTime, nullable=False)
