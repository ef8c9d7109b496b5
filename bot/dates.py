"""Italian date expressions as customers write them, turned into dates.

"entro il 30", "fine mese", "tra due settimane", "il 15 dicembre", "15/12", "lunedì prossimo",
"domani", "dopo il 10", "a Natale", "a Pasquetta": relative to a given day (the business day),
`None` when the text holds no date. A date without a year is the next one from that day on (today included); a
year the customer writes ("15/12/2020", "2025-12-15") is kept as written, so the result may be
in the past or years ahead: callers check the range they accept.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from dateutil.easter import easter

from bot.folding import fold

MONTHS = {
    "gennaio": 1,
    "febbraio": 2,
    "marzo": 3,
    "aprile": 4,
    "maggio": 5,
    "giugno": 6,
    "luglio": 7,
    "agosto": 8,
    "settembre": 9,
    "ottobre": 10,
    "novembre": 11,
    "dicembre": 12,
    "gen": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "mag": 5,
    "giu": 6,
    "lug": 7,
    "ago": 8,
    "set": 9,
    "ott": 10,
    "nov": 11,
    "dic": 12,
}
WEEKDAYS = {"lunedi": 0, "martedi": 1, "mercoledi": 2, "giovedi": 3, "venerdi": 4, "sabato": 5, "domenica": 6}
# Named days customers use (the stores' hours on a holiday): fixed dates, longest names first so
# "vigilia di natale" is not read as "natale"
FEASTS = {
    "vigilia di natale": (12, 24),
    "la vigilia": (12, 24),
    "santo stefano": (12, 26),
    "natale": (12, 25),
    "san silvestro": (12, 31),
    "ultimo dell'anno": (12, 31),
    "capodanno": (1, 1),
    "primo dell'anno": (1, 1),
    "epifania": (1, 6),
    "befana": (1, 6),
    "liberazione": (4, 25),
    "primo maggio": (5, 1),
    "festa dei lavoratori": (5, 1),
    "festa della repubblica": (6, 2),
    "ferragosto": (8, 15),
    "ognissanti": (11, 1),
    "immacolata": (12, 8),
}
# days after Easter Sunday
MOVABLE_FEASTS = {"pasquetta": 1, "lunedi dell'angelo": 1, "pasqua": 0}
NUMBERS = {
    "un": 1,
    "uno": 1,
    "una": 1,
    "due": 2,
    "tre": 3,
    "quattro": 4,
    "cinque": 5,
    "sei": 6,
    "sette": 7,
    "otto": 8,
    "nove": 9,
    "dieci": 10,
    "undici": 11,
    "dodici": 12,
    "quindici": 15,
    "venti": 20,
    "trenta": 30,
}


def parse_number(text: str) -> int | None:
    """ "3", "tre", "in 3 rate" -> 3."""
    plain = fold(text)
    digits = re.search(r"\b(\d{1,3})\b", plain)
    if digits:
        return int(digits.group(1))
    for word in re.findall(r"[a-z]+", plain):
        if word in NUMBERS:
            return NUMBERS[word]
    return None


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_with_day(today: date, day_of_month: int) -> date | None:
    """The next date (today included) whose day of month is `day_of_month`."""
    for months_ahead in range(0, 3):
        month_index = today.month - 1 + months_ahead
        year, month = today.year + month_index // 12, month_index % 12 + 1
        if day_of_month <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day_of_month)
            if candidate >= today:
                return candidate
    return None


def _with_month(today: date, day_of_month: int, month: int, year: int | None) -> date | None:
    year = year if year is not None else today.year
    if year < 100:
        year += 2000
    try:
        candidate = date(year, month, day_of_month)
    except ValueError:
        return None
    if candidate < today and year == today.year:
        try:
            candidate = date(year + 1, month, day_of_month)
        except ValueError:
            return None
    return candidate


def _feast(plain: str, today: date) -> date | None:
    """ "a Natale", "il giorno di Pasquetta": the next such day (today included)."""
    plain = plain.replace("’", "'")
    for name, (month, day_of_month) in FEASTS.items():
        if re.search(rf"\b{name}\b", plain):
            return _with_month(today, day_of_month, month, None)
    for name, offset in MOVABLE_FEASTS.items():
        if re.search(rf"\b{name}\b", plain):
            for year in (today.year, today.year + 1):
                candidate = easter(year) + timedelta(days=offset)
                if candidate >= today:
                    return candidate
    return None


def parse_italian_date(text: str, today: date) -> date | None:
    """The date a customer means, relative to `today`; None if there is none."""
    plain = fold(text)
    feast = _feast(plain, today)
    if feast:
        return feast
    if re.search(r"\bdopodomani\b", plain):
        return today + timedelta(days=2)
    if re.search(r"\bdomani\b", plain):
        return today + timedelta(days=1)
    if re.search(r"\boggi\b", plain):
        return today

    match = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", plain)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None

    match = re.search(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b", plain)
    if match:
        year = int(match.group(3)) if match.group(3) else None
        return _with_month(today, int(match.group(1)), int(match.group(2)), year)

    match = re.search(r"\b(\d{1,2})\s+(?:di\s+)?([a-z]+)(?:\s+(\d{4}))?", plain)
    if match and match.group(2) in MONTHS:
        year = int(match.group(3)) if match.group(3) else None
        return _with_month(today, int(match.group(1)), MONTHS[match.group(2)], year)

    match = re.search(r"\bfine\s+(?:del\s+)?(mese|([a-z]+))\b", plain)
    if match:
        if match.group(1) == "mese":
            following = "prossimo" in plain[match.end() : match.end() + 12]
            base = _month_end(today) + timedelta(days=1) if following else today
            return _month_end(base)
        if match.group(2) in MONTHS:
            candidate = _with_month(today, 1, MONTHS[match.group(2)], None)
            return _month_end(candidate) if candidate else None

    match = re.search(r"\b(?:tra|fra)\s+(\w+)\s+(giorn[oi]|settiman[ae]|mes[ei])\b", plain)
    if match:
        amount = int(match.group(1)) if match.group(1).isdigit() else NUMBERS.get(match.group(1))
        if amount is not None:
            unit = match.group(2)
            if unit.startswith("giorn"):
                return today + timedelta(days=amount)
            if unit.startswith("settiman"):
                return today + timedelta(weeks=amount)
            from bot.rules.engine import add_months

            return add_months(today, amount)
    if re.search(r"\b(?:tra|fra) una settimana\b", plain) or "settimana prossima" in plain:
        return today + timedelta(weeks=1)

    for name, weekday in WEEKDAYS.items():
        if re.search(rf"\b{name}\b", plain):
            ahead = (weekday - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)

    match = re.search(r"\b(?:il|entro il|dopo il|per il|al)\s+(\d{1,2})\b", plain) or re.fullmatch(
        r"\s*(\d{1,2})\s*", plain
    )
    if match:
        day_of_month = int(match.group(1))
        if 1 <= day_of_month <= 31:
            return _next_with_day(today, day_of_month)
    return None
