"""Checks of the data a customer gives for direct debit and paperless billing (issue 12): the
IBAN (python-stdnum), the account holder's name, the e-mail address (email-validator, syntax
only). The billing backend checks with them before it stores anything; the actions check with
them first, to ask again in Italian instead of sending what the backend would refuse.

Every pattern here is linear (bounded repetitions, no nested quantifiers) and runs on a text
cut to MAX_TEXT characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from bot.folding import fold
from bot.masking import EMAIL, IBAN
from bot.rules import engine as rules

MAX_TEXT = 300  # an IBAN, a name or an address with a few words around it
MIN_IBAN = 15  # Norway's, the shortest
ITALIAN_IBAN_LENGTH = 27
_NAME = re.compile(r"^[a-zà-öø-ÿ' .-]{3,70}$", re.I)


@dataclass(frozen=True)
class IbanCheck:
    """`iban` (compact, upper case) when valid; else `problem`: `not_found`, `invalid`
    (checksum or the country's format) or `not_sepa`; `length` of what was read."""

    iban: str | None
    problem: str | None = None
    length: int = 0


def iban_of(value: str) -> IbanCheck:
    """An IBAN as given to the backend (spaces allowed, nothing else): valid, `invalid`, or
    valid but `not_sepa` (policy.yml `direct_debit.sepa_countries`)."""
    compact = re.sub(r"\s", "", value).upper()
    try:
        valid = str(stdnum_iban.validate(compact))
    except ValidationError:
        return IbanCheck(None, "invalid", len(compact))
    if valid[:2] not in rules.sepa_countries():
        return IbanCheck(None, "not_sepa", len(valid))
    return IbanCheck(valid)


def iban_check(text: str) -> IbanCheck:
    """The IBAN a customer's message holds: "IT60 X054 2811 ...", "iban: it60x0542... grazie".

    The IBAN shape is the masker's (bot/masking.py: letters, 2 digits, 11-30 characters with
    single spaces); words written after it may be read as part of it ("... 456 grazie"), so
    the longest prefix that is an IBAN wins."""
    for match in IBAN.finditer(text[:MAX_TEXT]):
        compact = re.sub(r"\s", "", match.group(0)).upper()
        for end in range(len(compact), MIN_IBAN - 1, -1):
            check = iban_of(compact[:end])
            if check.problem != "invalid":
                return check
        read = compact[:ITALIAN_IBAN_LENGTH] if compact.startswith("IT") else compact
        return IbanCheck(None, "invalid", len(read))
    return IbanCheck(None, "not_found")


def holder_name(value: str) -> str | None:
    """A first and last name ("Mario Rossi", "rossi mario"), spaces tidied; None otherwise."""
    name = " ".join(value[:MAX_TEXT].split())
    if not _NAME.match(name) or len(name.split()) < 2:
        return None
    return name


def same_person(name: str, other: str) -> bool:
    """'Rossi Mario' is 'MARIO ROSSI': the same words in any order, accents and case aside."""
    return sorted(fold(name).split()) == sorted(fold(other).split())


def normalised_email(value: str) -> str | None:
    """The address as it is stored (domain in lower case), or None when its syntax is not an
    address's. No DNS query (`check_deliverability=False`)."""
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


def email_in(text: str) -> str | None:
    """The first e-mail address of a message ("la mia mail è mario@example.it"), normalised;
    None when there is none or it is not valid."""
    match = EMAIL.search(text[:MAX_TEXT])
    return normalised_email(match.group(0)) if match else None
