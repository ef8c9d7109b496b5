"""Masking of personal data in what the bot says and logs.

One place for it: the actions, the console and the logs use these functions.
"""

from __future__ import annotations

import re

_FISCAL_CODE = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b", re.I)


def mask_fiscal_code(value: str) -> str:
    """RSSMRA80A01H501U -> RSS*********501U: enough for the customer to recognise it."""
    value = value.strip().upper()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_fiscal_codes_in(text: str) -> str:
    """Every codice fiscale in a free text, masked."""
    return _FISCAL_CODE.sub(lambda m: mask_fiscal_code(m.group(0)), text)
