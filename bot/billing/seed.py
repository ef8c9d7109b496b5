"""Demo data of the embedded billing database, relative to the business day.

The contract's three demo customers (and a few more for the other cases) get bills dated
from today: Mario Rossi's bill is always due in 5 days, Laura Bianchi's always 12 days
overdue. When the business day changes, the demo customers are seeded again (their demo
deferrals and plans go with them, and the Idempotency-Key answers about their bills); other
data, other customers' idempotency records included, is left alone. Only the embedded demo
profile seeds.

The store list is SAMPLE DATA (which towns host a store is not verified); replace it with
the operator's list: `python -m bot.billing.seed --stores stores.csv` (format: stores.csv
next to this file).

    python -m bot.billing.seed [--force] [--stores FILE.csv]

Over 300 lines: the demo customers are data written as code (bills, meters, payments), next to the
few lines that write them.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import clock
from bot.billing.db import make_engine, session_factory, upgrade_schema
from bot.billing.models import (
    Bill,
    Complaint,
    Customer,
    Deferral,
    DirectDebitMandate,
    IdempotencyRecord,
    InstallmentPlan,
    MeterReading,
    Payment,
    PlanInstallment,
    SeedRun,
    Store,
    Supply,
    VerificationCounter,
)

SAMPLE_STORES = Path(__file__).with_name("stores.csv")


@dataclass(frozen=True)
class DemoBill:
    supply: str  # luce | gas
    amount_cents: int
    due_in_days: int  # relative to the business day; negative = overdue
    status: str = "open"
    kind: str = "regular"
    average_previous_cents: int | None = None
    estimated_bills_since_adjustment: int = 0
    # what the bill shows (issue 12): kWh or Smc billed (None: the supply's profile over two
    # months), an estimated closing reading, the conguaglio part of the amount
    consumption: int | None = None
    estimated: bool = False
    adjustment_cents: int | None = None


@dataclass(frozen=True)
class DemoCustomer:
    code: str
    name: str
    fiscal_code: str
    phone: str
    supplies: tuple[tuple[str, str], ...]  # (kind, POD/PDR)
    bills: tuple[DemoBill, ...]
    good_payer: bool = True


# The first three are fixed by the contract (../shared/design/contracts.md).
DEMO_CUSTOMERS: Sequence[DemoCustomer] = (
    DemoCustomer(
        "100001",
        "Mario Rossi",
        "RSSMRA80A01H501U",
        "+393331234567",
        (("luce", "IT001E12345678"),),
        (
            DemoBill("luce", 18_240, 5, consumption=620),
            DemoBill("luce", 15_610, -55, status="paid", consumption=515),
            DemoBill("luce", 17_125, -115, status="paid", consumption=570),
        ),
    ),
    DemoCustomer(
        "100002",
        "Laura Bianchi",
        "BNCLRA85M41D612D",
        "+393471112233",
        (("gas", "00881234567890"),),
        (
            # winter gas on an estimated reading: the bot suggests a self-reading
            DemoBill("gas", 82_000, -12, consumption=610, estimated=True),
            DemoBill("gas", 41_230, -72, status="paid", consumption=300),
        ),
        good_payer=False,
    ),
    DemoCustomer(
        "100003",
        "Giuseppe Verdi",
        "VRDGPP70C15G702S",
        "+393209876543",
        (("luce", "IT001E87654321"), ("gas", "00881234500001")),
        (DemoBill("luce", 9_870, -20, status="paid"), DemoBill("gas", 21_450, -22, status="paid")),
    ),
    # An adjustment bill (conguaglio) over 150 % of the previous estimates: ARERA's right.
    DemoCustomer(
        "100004",
        "Anna Ferrari",
        "FRRNNA75D45G999S",
        "+393351230004",
        (("luce", "IT002E11112222"),),
        (
            DemoBill(
                "luce",
                12_300,
                8,
                kind="adjustment",
                average_previous_cents=6_100,
                estimated_bills_since_adjustment=3,
                consumption=410,
                adjustment_cents=6_550,
            ),
            # issue 12, "why is it so high": the three estimated bills the conguaglio settles
            DemoBill("luce", 5_840, -52, status="paid", consumption=190, estimated=True),
            DemoBill("luce", 6_120, -112, status="paid", consumption=195, estimated=True),
            DemoBill("luce", 6_370, -172, status="paid", consumption=200, estimated=True),
        ),
    ),
    # A bill in an arrears procedure: neither deferral nor installments by the bot.
    DemoCustomer(
        "100005",
        "Marco Esposito",
        "SPSMRC68H12F839Z",
        "+393351230005",
        (("gas", "00881234500005"),),
        (DemoBill("gas", 64_050, -45, status="arrears"),),
        good_payer=False,
    ),
    # A small bill: deferral yes, installments no (under EUR 150).
    DemoCustomer(
        "100006",
        "Francesca Romano",
        "RMNFNC90T52A390Z",
        "+393351230006",
        (("luce", "IT003E33334444"),),
        (DemoBill("luce", 9_000, 10),),
    ),
    # Two open bills: the bot asks which one.
    DemoCustomer(
        "100007",
        "Luca Ricci",
        "RCCLCU82B10L219I",
        "+393351230007",
        (("luce", "IT001E55556666"), ("gas", "00881234500007")),
        (DemoBill("luce", 24_580, 7), DemoBill("gas", 136_000, 15)),
    ),
)


@dataclass(frozen=True)
class DemoMeter:
    """Self-reading data of a demo supply (issue 12)."""

    registers: int = 1  # 3 = F1/F2/F3
    next_reading_in_days: int = 2  # the window (policy.yml meter_reading) is open around it
    annual_consumption: int = 2700  # kWh or Smc a year
    last: tuple[int, ...] = (12_000,)  # the distributor's reading 30 days ago, per register


# By POD/PDR; a supply not listed gets DemoMeter().
DEMO_METERS: dict[str, DemoMeter] = {
    "IT001E12345678": DemoMeter(registers=3, last=(4_210, 3_180, 5_020)),  # Mario Rossi: three rates
    "00881234567890": DemoMeter(annual_consumption=1_400, last=(8_350,)),  # Laura Bianchi: gas, m³
    "IT001E87654321": DemoMeter(last=(23_140,)),  # Giuseppe Verdi
    "00881234500001": DemoMeter(annual_consumption=900, last=(3_415,)),
    "IT003E33334444": DemoMeter(next_reading_in_days=20, last=(6_020,)),  # Francesca Romano: window closed
}
# How the demo's paid bills were paid, by bill id (default: pagoPA).
DEMO_PAYMENT_METHODS: dict[str, str] = {
    "F100001-02": "domiciliazione",
    "F100001-03": "domiciliazione",
    "F100002-02": "bollettino",
    "F100003-01": "carta",
    "F100003-02": "bonifico",
}


# Direct debit (issue 12): Mario Rossi's bills are debited to his account (his paid bills above
# say "domiciliazione"): an active mandate to revoke or replace. (IBAN, holder, days since signed)
DEMO_MANDATES: dict[str, tuple[str, str, int]] = {
    "100001": ("IT60X0542811101000000123456", "Mario Rossi", 200),
}
# Paperless billing (issue 12): Giuseppe Verdi already gets his bills by e-mail.
DEMO_EMAILS: dict[str, str] = {"100003": "giuseppe.verdi@example.it"}


def notice_code(bill_id: str) -> str:
    """A stable 18-digit pagoPA codice avviso for a demo bill (aux digit 3, then digits of the id)."""
    digits = "".join(ch for ch in bill_id if ch.isdigit())
    return ("3" + digits.rjust(17, "0"))[:18]


def _seed_customers(session: Session, today: date) -> None:
    codes = [c.code for c in DEMO_CUSTOMERS]
    bill_ids = select(Bill.id).where(Bill.customer_code.in_(codes))
    # the POST routes an idempotency record's scope names (bot/billing/api/idempotency.py)
    replayable = [
        f"POST /v1/bills/{bill_id}/{what}"
        for bill_id in session.execute(bill_ids).scalars()
        for what in ("deferrals", "installment-plans")
    ]
    supply_ids = select(Supply.id).where(Supply.customer_code.in_(codes))
    replayable += [f"POST /v1/supplies/{supply_id}/readings" for supply_id in session.execute(supply_ids).scalars()]
    replayable += [f"POST /v1/customers/{code}/complaints" for code in codes]
    replayable += [f"{method} /v1/customers/{code}/direct-debit" for code in codes for method in ("POST", "DELETE")]
    replayable += [f"PUT /v1/customers/{code}/paperless" for code in codes]
    plan_ids = select(InstallmentPlan.id).where(InstallmentPlan.bill_id.in_(bill_ids))
    statements = [
        delete(MeterReading).where(MeterReading.supply_id.in_(supply_ids)),
        delete(Payment).where(Payment.bill_id.in_(bill_ids)),
        delete(Complaint).where(Complaint.customer_code.in_(codes)),
        delete(DirectDebitMandate).where(DirectDebitMandate.customer_code.in_(codes)),
        delete(PlanInstallment).where(PlanInstallment.plan_id.in_(plan_ids)),
        delete(InstallmentPlan).where(InstallmentPlan.bill_id.in_(bill_ids)),
        delete(Deferral).where(Deferral.bill_id.in_(bill_ids)),
        delete(Bill).where(Bill.customer_code.in_(codes)),
        delete(Supply).where(Supply.customer_code.in_(codes)),
        delete(VerificationCounter).where(VerificationCounter.key.in_([f"customer:{code}" for code in codes])),
        delete(Customer).where(Customer.code.in_(codes)),
        # demo retries must not replay answers about demo bills that no longer exist
        delete(IdempotencyRecord).where(IdempotencyRecord.scope.in_(replayable)),
    ]
    for statement in statements:
        session.execute(statement.execution_options(synchronize_session=False))
    session.flush()

    for demo in DEMO_CUSTOMERS:
        session.add(
            Customer(
                code=demo.code,
                name=demo.name,
                fiscal_code=demo.fiscal_code,
                phone_e164=demo.phone,
                good_payer=demo.good_payer,
                email=DEMO_EMAILS.get(demo.code),
                paperless=demo.code in DEMO_EMAILS,
            )
        )
        supplies: dict[str, Supply] = {}
        for kind, point in demo.supplies:
            meter = DEMO_METERS.get(point, DemoMeter())
            supplies[kind] = Supply(
                customer_code=demo.code,
                kind=kind,
                point_id=point,
                registers=meter.registers,
                next_reading_date=today + timedelta(days=meter.next_reading_in_days),
                annual_consumption=meter.annual_consumption,
            )
            session.add(supplies[kind])
        session.flush()
        for kind, point in demo.supplies:
            meter = DEMO_METERS.get(point, DemoMeter())
            names = ["F1", "F2", "F3"] if meter.registers == 3 else ["total"]
            monthly = meter.annual_consumption // 12 // len(names)
            for months_ago in (3, 2, 1):
                values = {n: max(v - monthly * (months_ago - 1), 0) for n, v in zip(names, meter.last, strict=True)}
                session.add(
                    MeterReading(
                        supply_id=supplies[kind].id,
                        read_on=today - timedelta(days=30 * months_ago),
                        source="estimated" if months_ago == 2 else "actual",
                        registers=values,
                        created_at=datetime.now(timezone.utc).replace(tzinfo=None),
                    )
                )
        # readings each bill starts and ends at: backwards from the supply's last reading
        reading_end: dict[str, int] = {
            kind: sum(DEMO_METERS.get(point, DemoMeter()).last) for kind, point in demo.supplies
        }
        shown: dict[int, tuple[int, int, int]] = {}
        for number, bill in sorted(enumerate(demo.bills, start=1), key=lambda pair: -pair[1].due_in_days):
            point = dict(demo.supplies)[bill.supply]
            used = bill.consumption or DEMO_METERS.get(point, DemoMeter()).annual_consumption // 6
            end = reading_end[bill.supply]
            shown[number] = (used, max(end - used, 0), end)
            reading_end[bill.supply] = max(end - used, 0)
        for number, bill in enumerate(demo.bills, start=1):
            due = today + timedelta(days=bill.due_in_days)
            used, start, end = shown[number]
            session.add(
                Bill(
                    id=f"F{demo.code}-{number:02d}",
                    customer_code=demo.code,
                    supply_id=supplies[bill.supply].id,
                    issue_date=due - timedelta(days=20),
                    due_date=due,
                    original_due_date=due,
                    amount_cents=bill.amount_cents,
                    status=bill.status,
                    paid_on=due - timedelta(days=2) if bill.status == "paid" else None,
                    kind=bill.kind,
                    average_previous_cents=bill.average_previous_cents,
                    estimated_bills_since_adjustment=bill.estimated_bills_since_adjustment,
                    notice_code=notice_code(f"F{demo.code}-{number:02d}"),
                    # bimonthly: the two months ending ten days before the bill was issued
                    period_start=due - timedelta(days=20 + 10 + 60),
                    period_end=due - timedelta(days=20 + 10 + 1),
                    consumption=used,
                    reading_start=start,
                    reading_end=end,
                    reading_source="estimated" if bill.estimated else "actual",
                    adjustment_cents=bill.adjustment_cents,
                )
            )
            if bill.status == "paid":
                bill_id = f"F{demo.code}-{number:02d}"
                method = DEMO_PAYMENT_METHODS.get(bill_id, "pagopa")
                paid_on = due - timedelta(days=2)
                # no relationship orders the two inserts: the bill must be written first
                # (PostgreSQL checks the foreign key at once; SQLite does not)
                session.flush()
                session.add(
                    Payment(
                        bill_id=bill_id,
                        paid_on=paid_on,
                        method=method,
                        amount_cents=bill.amount_cents,
                        registered_on=paid_on + timedelta(days=2),
                    )
                )
    session.flush()  # the customers first (PostgreSQL checks the mandates' foreign key at once)
    for code, (iban, holder, days_ago) in DEMO_MANDATES.items():
        signed = today - timedelta(days=days_ago)
        mandate = DirectDebitMandate(
            reference=f"demo-{code}",
            customer_code=code,
            active_customer=code,
            iban=iban,
            holder_name=holder,
            holder_is_customer=True,
            status="active",
            signed_on=signed,
            active_from=signed + timedelta(days=20),
            created_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        session.add(mandate)
        session.flush()
        mandate.reference = f"SDD{signed.year}-{mandate.id:05d}"


def _hours(cell: str) -> list[list[str]]:
    """'08:30-13:00,14:30-17:30' -> [['08:30', '13:00'], ['14:30', '17:30']]; '' -> closed."""
    return [part.strip().split("-") for part in cell.split(",") if part.strip()]


def load_stores_csv(path: Path) -> list[Store]:
    """Stores from a CSV file (header: name,address,city,province,province_code,lat,lon,phone,
    services,mon,tue,wed,thu,fri,sat,sun,sample); services separated by ';'."""
    stores = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            stores.append(
                Store(
                    name=row["name"],
                    address=row["address"],
                    city=row["city"],
                    province=row["province"],
                    province_code=row["province_code"],
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    phone=row.get("phone") or None,
                    services=[s.strip() for s in row.get("services", "").split(";") if s.strip()],
                    opening_hours={
                        day: _hours(row.get(day, "")) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                    },
                    sample=row.get("sample", "true").strip().lower() in ("1", "true", "yes", "si", "sì"),
                )
            )
    return stores


def replace_stores(session: Session, path: Path) -> int:
    stores = load_stores_csv(path)
    session.execute(delete(Store))
    session.add_all(stores)
    return len(stores)


def seed(url: str | None = None, force: bool = False, stores_csv: Path | None = None) -> str:
    """Seed what is missing or stale; returns what was done."""
    upgrade_schema(url)
    factory = session_factory(make_engine(url))
    today = clock.today()
    done = []
    with factory() as session, session.begin():
        last = session.execute(select(SeedRun).order_by(SeedRun.id.desc()).limit(1)).scalar_one_or_none()
        if force or last is None or last.business_date != today:
            _seed_customers(session, today)
            session.add(SeedRun(business_date=today, at=datetime.now(timezone.utc).replace(tzinfo=None)))
            done.append(f"demo customers seeded for {today.isoformat()}")
        if stores_csv is not None:
            done.append(f"{replace_stores(session, stores_csv)} stores imported from {stores_csv}")
        elif session.execute(select(Store.id).limit(1)).first() is None:
            done.append(f"{replace_stores(session, SAMPLE_STORES)} sample stores loaded")
    return "; ".join(done) or "billing data up to date"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="reseed the demo customers even if seeded today")
    parser.add_argument("--stores", type=Path, help="replace the store list with this CSV file")
    args = parser.parse_args()
    print(seed(force=args.force, stores_csv=args.stores))


if __name__ == "__main__":
    main()
