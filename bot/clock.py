"""The business clock: what "today" is for the utility, in Europe/Rome.

Every rule is computed for a business day. Code asks this module for today's date instead of
calling `date.today()`, so a demo or a test can move the whole system to another day with
`BUSINESS_DATE=2020-03-20` (and `BUSINESS_TIME=21:00`, the hour) and the server's time zone
never matters.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.settings import get_settings

ROME = ZoneInfo("Europe/Rome")


def now() -> datetime:
    """The current moment in Rome (the date part follows BUSINESS_DATE, the time BUSINESS_TIME,
    when they are set)."""
    current = datetime.now(ROME)
    settings = get_settings()
    if settings.business_date:
        day = date.fromisoformat(settings.business_date)
        current = current.replace(year=day.year, month=day.month, day=day.day)
    if settings.business_time:
        at = time.fromisoformat(settings.business_time)
        current = current.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    return current


def part_of_day(moment: datetime | None = None) -> str:
    """Which greeting fits the hour in Rome: "mattina" (5-13), "pomeriggio" (13-18) or "sera"
    (the widget's own greeting uses the same hours)."""
    hour = (moment or now()).astimezone(ROME).hour
    return "mattina" if 5 <= hour < 13 else "pomeriggio" if 13 <= hour < 18 else "sera"


def today() -> date:
    """The business day in Rome."""
    return now().date()
