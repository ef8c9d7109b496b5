"""Meter self-reading (autolettura, issue 12): the customer's meters, and a reading recorded once.

A reading is checked against the last one (lower: refused, "please check") and against the
consumption profile (higher than it allows: refused until the customer confirms), and accepted
only in the window around the supply's next scheduled reading (bot/rules/policy.yml).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from bot import clock
from bot.billing import schemas
from bot.billing.api.deps import SERVICE_TOKEN, SessionDep, VerifiedCustomer, owned_customer
from bot.billing.api.errors import ERROR_RESPONSES, ApiError
from bot.billing.api.idempotency import IdempotencyDep
from bot.billing.api.presenters import unit
from bot.billing.models import MeterReading, Supply
from bot.rules import engine as rules

router = APIRouter(dependencies=SERVICE_TOKEN, responses=ERROR_RESPONSES, tags=["readings"])
THREE_RATES = ["F1", "F2", "F3"]


def register_names(supply: Supply) -> list[str]:
    return THREE_RATES if supply.registers == 3 else ["total"]


def last_reading(supply: Supply) -> MeterReading | None:
    return supply.readings[-1] if supply.readings else None


def meter_out(supply: Supply) -> schemas.MeterOut:
    last = last_reading(supply)
    window = rules.reading_window(supply.next_reading_date, clock.today()) if supply.next_reading_date else None
    return schemas.MeterOut(
        supply_id=supply.id,
        supply=supply.kind,
        unit=unit(supply),
        registers=register_names(supply),
        last_reading=schemas.MeterReadingOut(read_on=last.read_on, source=last.source, registers=last.registers)
        if last
        else None,
        next_reading_date=supply.next_reading_date,
        window_opens=window.opens if window else None,
        window_closes=window.closes if window else None,
        window_open=bool(window and window.contains(clock.today())),
    )


@router.get("/v1/customers/{customer_code}/meters", response_model=schemas.MetersResponse)
def meters(customer_code: str, verified: VerifiedCustomer, session: SessionDep) -> Any:
    """The customer's meters: registers, unit, last reading and the self-reading window."""
    owned_customer(customer_code, verified)
    supplies = session.execute(select(Supply).where(Supply.customer_code == customer_code).order_by(Supply.id))
    return schemas.MetersResponse(customer_code=customer_code, meters=[meter_out(s) for s in supplies.scalars()])


def _reading_out(supply: Supply, reading: MeterReading, consumed: int) -> schemas.ReadingOut:
    return schemas.ReadingOut(
        id=reading.id,
        supply_id=supply.id,
        supply=supply.kind,
        read_on=reading.read_on,
        registers=reading.registers,
        consumed=consumed,
        used_for_reading_of=supply.next_reading_date,
    )


@router.post("/v1/supplies/{supply_id}/readings", response_model=schemas.ReadingOut, status_code=201)
def submit_reading(
    supply_id: int,
    payload: schemas.ReadingRequest,
    idempotency: IdempotencyDep,
    verified: VerifiedCustomer,
    session: SessionDep,
) -> Any:
    """Record a self-reading. Refusals: `registers_mismatch` (422: the meter has other
    registers), `window_closed` (409), `reading_lower` (422), `reading_implausible` (409:
    send again with confirm_high). The same reading sent again the same day is the same record."""
    supply = session.get(Supply, supply_id)
    if supply is None:
        raise ApiError(404, "supply_not_found", "No such supply.")
    owned_customer(supply.customer_code, verified)
    if sorted(payload.registers) != sorted(register_names(supply)):
        raise ApiError(422, "registers_mismatch", f"This meter has the registers {register_names(supply)}.")

    def create() -> schemas.ReadingOut:
        today = clock.today()
        last = last_reading(supply)
        if last is not None and last.source == "customer" and last.read_on == today:
            previous = supply.readings[-2] if len(supply.readings) > 1 else None
            if last.registers == payload.registers:  # a retry without the key: the same record
                consumed = sum(v - (previous.registers.get(r, 0) if previous else 0) for r, v in last.registers.items())
                return _reading_out(supply, last, consumed)
            last = previous  # a correction the same day replaces the customer's first reading
        if supply.next_reading_date is None:
            raise ApiError(409, "window_closed", "No reading is scheduled for this supply.")
        window = rules.reading_window(supply.next_reading_date, today)
        if not window.contains(today):
            raise ApiError(409, "window_closed", f"Readings are accepted from {window.opens} to {window.closes}.")
        check = rules.check_reading(
            last.registers if last else {},
            last.read_on if last else today,
            payload.registers,
            today,
            supply.annual_consumption,
        )
        if check.verdict == "lower":
            raise ApiError(422, "reading_lower", f"Register {check.register} is below the last reading.")
        if check.verdict == "implausible" and not payload.confirm_high:
            raise ApiError(409, "reading_implausible", "Above the consumption profile; confirm to record it.")
        stale = supply.readings[-1] if supply.readings else None
        if stale is not None and stale.source == "customer" and stale.read_on == today:
            session.delete(stale)
        reading = MeterReading(
            supply_id=supply.id,
            read_on=today,
            source="customer",
            registers=dict(payload.registers),
            created_at=datetime.now(timezone.utc).replace(tzinfo=None),
        )
        session.add(reading)
        session.flush()
        return _reading_out(supply, reading, check.consumed)

    return idempotency.run({"supply": supply_id, **payload.dict()}, create)
