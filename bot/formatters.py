"""Italian text built from data: amounts, dates, and the lists the assistant shows.

Fixed sentences live in domain.yml as responses (the actions pass these values as response
variables); what depends on the data (how many bills, which installments, which stores) is
built here, and only here. docs/conversation-design.md says where each kind of text lives.
"""

from __future__ import annotations

from datetime import date

NBSP = "\u00a0"  # between an amount and "€", so a line never breaks inside "182,40 €"

MONTHS = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
          "agosto", "settembre", "ottobre", "novembre", "dicembre"]  # fmt: skip


def euros(cents: int) -> str:
    """An amount in integer cents, the Italian way: "182,40 €", "1.250,00 €", "-0,05 €"."""
    whole, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d}{NBSP}€"


def italian_date(day: date, article: str = "") -> str:
    """'1º dicembre 2026'; with an article: 'il 3 dicembre 2026', "l'11 dicembre 2026",
    "all'8 dicembre 2026" (the article elides before "8" and "11")."""
    text = f"{'1º' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"
    if not article:
        return text
    words = article.split()
    elided = {"il": "l'", "al": "all'", "dal": "dall'", "del": "dell'"}
    if day.day in (8, 11) and words[-1] in elided:
        return " ".join([*words[:-1], elided[words[-1]] + text])
    return f"{article} {text}"
