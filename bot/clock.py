"""The business clock: what "today" is for the utility, in Europe/Rome.

Every rule is computed for a business day. Code asks this module for today's date instead of
calling `date.today()`, so a demo or a test can move the whole system to another day with
`BUSINESS_DATE=2020-03-20` and the server's time zone never matters.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.settings import get_settings

ROME = ZoneInfo("Europe/Rome")


def now() -> datetime:
    """The current moment in Rome (the date part follows BUSINESS_DATE when it is set)."""
    current = datetime.now(ROME)
    fixed = get_settings().business_date
    if fixed:
        day = date.fromisoformat(fixed)
        current = current.replace(year=day.year, month=day.month, day=day.day)
    return current


def today() -> date:
    """The business day in Rome."""
    return now().date()
