"""Masking of personal data in what the bot says, the console shows and the logs keep.

One place for it: the actions, the console and the log filter use these functions. Masked:
codice fiscale, IBAN, phone numbers, e-mail addresses, POD and PDR. What remains lets a
person recognise the value (first and last characters), never reconstruct it.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, Iterable, Pattern, Tuple

_OMOCODE = "0-9LMNPQRSTUV"
FISCAL_CODE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{6}}[{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{3}}[A-Za-z](?![A-Za-z0-9])",
    re.I,
)
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])", re.I)
POD = re.compile(r"(?<![A-Za-z0-9])IT\d{3}E[0-9A-Z]{8,9}(?![A-Za-z0-9])", re.I)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Italian mobile and landline numbers, with or without +39/0039, with spaces, dots or dashes;
# also PDR codes (14 digits) and any other long digit run.
PHONE_OR_LONG_NUMBER = re.compile(r"(?<![\w])(?:\+|00)?\d(?:[ .\-/]?\d){8,15}(?![\w])")


def _keep_ends(value: str, head: int, tail: int) -> str:
    compact = value
    if len(compact) <= head + tail:
        return "*" * len(compact)
    return compact[:head] + "*" * (len(compact) - head - tail) + compact[-tail:]


def mask_fiscal_code(value: str) -> str:
    """RSSMRA80A01H501U -> RSS*********501U."""
    return _keep_ends(value.strip().upper(), 3, 4)


def mask_customer_code(value: str) -> str:
    """100001 -> ****01: an agent can match it with what the customer reads in the bill."""
    return _keep_ends(value.strip(), 0, 2)


def _mask_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return "*" * (len(digits) - 2) + digits[-2:]


_RULES: Tuple[Tuple[Pattern[str], Callable[[str], str]], ...] = (
    (EMAIL, lambda v: v[0] + "***@" + v.split("@", 1)[1]),
    (FISCAL_CODE, mask_fiscal_code),
    (POD, lambda v: _keep_ends(v.upper(), 2, 2)),
    (IBAN, lambda v: _keep_ends(re.sub(r"\s", "", v.upper()), 2, 2)),
    (PHONE_OR_LONG_NUMBER, _mask_digits),
)


def mask_text(text: str) -> str:
    """Every piece of personal data in a free text, masked."""
    if not text:
        return text
    for pattern, mask in _RULES:
        text = pattern.sub(lambda m: mask(m.group(0)), text)
    return text


def names_masker(names: Iterable[str]) -> Callable[[str], str]:
    """A masker that also hides these people's names (e.g. the customer_name slot): 'Mario' -> 'M***'."""
    words = sorted({w for name in names if name for w in name.split() if len(w) >= 2}, key=len, reverse=True)
    if not words:
        return mask_text
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    return lambda text: pattern.sub(lambda m: m.group(0)[0] + "***", mask_text(text)) if text else text


def mask_fiscal_codes_in(text: str) -> str:
    """Only the codici fiscali of a text, masked."""
    return FISCAL_CODE.sub(lambda m: mask_fiscal_code(m.group(0)), text)


SENSITIVE_SLOTS = frozenset({"customer_token", "fiscal_code"})


def mask_slots(slots: Dict[str, object], hidden: Iterable[str] = SENSITIVE_SLOTS) -> Dict[str, object]:
    """Slots for display: tokens hidden, free texts masked."""
    shown: Dict[str, object] = {}
    for name, value in slots.items():
        if name in hidden and value:
            shown[name] = "•••"
        elif isinstance(value, str):
            shown[name] = mask_text(value)
        else:
            shown[name] = value
    return shown
