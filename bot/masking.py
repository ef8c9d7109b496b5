"""Masking of personal data in what the bot says, the console shows and the logs keep.

One place for it: the actions, the console and the log filter use these functions. Masked:
codice fiscale, IBAN, phone numbers, e-mail addresses, POD and PDR. What remains lets a
person recognise the value (first and last characters), never reconstruct it.

Masking runs on customer text, so it must stay linear in the text's length (issue 10, finding 4:
the old e-mail pattern backtracked quadratically, 25 s for 100 000 characters). Every pattern
has bounded repetitions and no nested or overlapping quantifiers; a pattern runs only when the
text holds a character it needs (an "@", a digit); and a text longer than MAX_MASKED_CHARS is
cut before masking, with TRUNCATION_MARKER in place of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from re import Pattern

_OMOCODE = "0-9LMNPQRSTUV"
FISCAL_CODE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{6}}[{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{3}}[A-Za-z](?![A-Za-z0-9])",
    re.I,
)
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])", re.I)
POD = re.compile(r"(?<![A-Za-z0-9])IT\d{3}E[0-9A-Z]{8,9}(?![A-Za-z0-9])", re.I)
# Local part at most 64 characters, labels at most 63 and no dots inside a label, so a failed
# attempt backtracks over at most ~130 characters (RFC 5321's limits bound the lengths).
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")
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


def mask_iban(value: str) -> str:
    """IT60X0542811101000000123456 -> IT** **** … 3456: the country and the last four characters,
    as the bot shows a customer's account (the check digits are hidden: with them and the last
    characters an IBAN is easier to guess)."""
    compact = re.sub(r"\s", "", value).upper()
    return f"{compact[:2]}** **** … {compact[-4:]}" if len(compact) > 8 else "*" * len(compact)


def mask_email(value: str) -> str:
    """mario.rossi@example.it -> m***@example.it."""
    local, _, domain = value.partition("@")
    return (local[:1] + "***@" + domain) if domain else "*" * len(value)


def _mask_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits in company_numbers():
        return value  # the company's own numbers (numero verde, emergencies) are not personal data
    return "*" * (len(digits) - 2) + digits[-2:]


def company_numbers() -> frozenset[str]:
    """The digits of the company's own numbers (settings: the call centre's numero verde and the
    emergency numbers), which are shown as they are wherever a text is masked (issue 14)."""
    from bot.settings import get_settings  # here: settings are read once, on first use

    settings = get_settings()
    numbers = (settings.call_centre_number, settings.emergency_number_electricity, settings.emergency_number_gas)
    return frozenset(re.sub(r"\D", "", n) for n in numbers if n)


# Several times the longest customer message the channels accept (MAX_MESSAGE_CHARS); only
# texts stored before that cap, or a long bot answer, are ever cut.
MAX_MASKED_CHARS = 10_000
TRUNCATION_MARKER = " [… testo troncato]"
# Longer than any value masked here (an e-mail is at most 64 + 1 + 9 * 64 = 641 characters): the run
# of such characters at the cut is dropped, so no value is shown cut in half and unmasked.
_VALUE_TAIL = 700
_VALUE_PUNCTUATION = frozenset("@.%+-/_ ")
_DIGIT = re.compile(r"\d")

# (pattern, mask, what the text must contain for the pattern to possibly match)
_RULES: tuple[tuple[Pattern[str], Callable[[str], str], Callable[[str], bool]], ...] = (
    (EMAIL, mask_email, lambda t: "@" in t),
    (FISCAL_CODE, mask_fiscal_code, lambda t: True),  # omocodia may replace every digit
    (POD, lambda v: _keep_ends(v.upper(), 2, 2), lambda t: _DIGIT.search(t) is not None),
    (IBAN, lambda v: _keep_ends(re.sub(r"\s", "", v.upper()), 2, 2), lambda t: _DIGIT.search(t) is not None),
    (PHONE_OR_LONG_NUMBER, _mask_digits, lambda t: _DIGIT.search(t) is not None),
)


def _capped(text: str) -> str:
    """The text cut at MAX_MASKED_CHARS, without the partial value the cut may have made."""
    if len(text) <= MAX_MASKED_CHARS:
        return text
    end = MAX_MASKED_CHARS
    floor = end - _VALUE_TAIL
    while end > floor and (text[end - 1].isalnum() or text[end - 1] in _VALUE_PUNCTUATION):
        end -= 1
    return text[:end] + TRUNCATION_MARKER


def mask_text(text: str) -> str:
    """Every piece of personal data in a free text, masked; texts over MAX_MASKED_CHARS cut."""
    if not text:
        return text
    text = _capped(text)
    for pattern, mask, may_match in _RULES:
        if may_match(text):
            text = pattern.sub(_whole_match(mask), text)
    return text


def _whole_match(mask: Callable[[str], str]) -> Callable[[re.Match[str]], str]:
    """A replacement for re.sub that masks the whole match (bound here, not in a loop's closure)."""
    return lambda match: mask(match.group(0))


def names_masker(names: Iterable[str], codes: Iterable[str] = ()) -> Callable[[str], str]:
    """A masker that also hides these people's names (e.g. the customer_name slot): 'Mario' -> 'M***',
    and these customer codes (the customer_code slot) as everywhere in the console: '100001' ->
    '****01' (issue 14: the same in the summary, the transcript and the exports)."""
    words = sorted({w for name in names if name for w in name.split() if len(w) >= 2}, key=len, reverse=True)
    numbers = sorted({c.strip() for c in codes if c and c.strip()}, key=len, reverse=True)
    masker = mask_text
    if numbers:
        code = re.compile(r"(?<![\w])(" + "|".join(re.escape(c) for c in numbers) + r")(?![\w])")
        masker = lambda text: code.sub(_whole_match(mask_customer_code), mask_text(text)) if text else text  # noqa: E731
    if not words:
        return masker
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)
    return lambda text: pattern.sub(lambda m: m.group(0)[0] + "***", masker(text)) if text else text


def mask_fiscal_codes_in(text: str) -> str:
    """Only the codici fiscali of a text, masked."""
    return FISCAL_CODE.sub(lambda m: mask_fiscal_code(m.group(0)), text)
