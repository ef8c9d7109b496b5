"""A store's opening hours on a given date: its weekly hours, public holidays, short days.

Public holidays (national ones, Easter Monday included, and the store's province's patron
saint) come from the `holidays` package; the short days (24 and 31 December...) and whether
holidays close the stores are data in store_calendar.yml. One place for "is it open that day".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import yaml

CALENDAR = Path(__file__).resolve().parent / "store_calendar.yml"
# Store.opening_hours keys, indexed by date.weekday()
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DayHours:
    periods: tuple[tuple[str, str], ...]
    # why the day is not an ordinary one: "Natale", "Vigilia di Natale"; None otherwise
    special: str | None = None


@lru_cache(maxsize=1)
def calendar() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CALENDAR.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=256)
def _holidays(province_code: str, year: int) -> holidays.HolidayBase:
    subdiv = province_code.upper()
    known = holidays.country_holidays("IT").subdivisions
    return holidays.country_holidays("IT", subdiv=subdiv if subdiv in known else None, years=year, language="it_IT")


def holiday(day: date, province_code: str) -> str | None:
    """The holiday's Italian name in the province on `day` ("Natale"), or None."""
    name = _holidays(province_code, day.year).get(day)
    return str(name).split(";")[0].strip() if name else None


def _in_force(day: date) -> bool:
    settings = calendar()
    start, end = settings.get("valid_from"), settings.get("valid_to")
    return (start is None or day >= start) and (end is None or day <= end)


def hours_on(opening_hours: dict[str, Any], province_code: str, day: date) -> DayHours:
    """The periods a store with these weekly hours is open on `day`."""
    weekly = tuple((str(a), str(b)) for a, b in opening_hours.get(WEEKDAYS[day.weekday()], []))
    if not _in_force(day):
        return DayHours(weekly)
    settings = calendar()
    name = holiday(day, province_code)
    if name and settings.get("closed_on_public_holidays", True):
        return DayHours((), name)
    for short in settings.get("short_days") or []:
        if (short["month"], short["day"]) == (day.month, day.day):
            closes = str(short["closes_at"])
            cut = tuple((a, min(b, closes)) for a, b in weekly if a < closes)
            return DayHours(cut, str(short["name"]))
    return DayHours(weekly)
