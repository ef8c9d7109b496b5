"""Canned replies of the agent desk (issue 14): texts supervisors write once, with variables in
braces that are filled from the verified customer's data when an agent picks one.

A variable is filled only with a value that is certainly right: the customer's name as the
backend verified it, the amount and due date of *the* open bill when there is exactly one. When
a value is not known (customer not verified, token expired, several open bills) the placeholder
stays in the text, visible, and the reply cannot be sent until the agent replaces it
(`unfilled`, checked by the reply route): never a wrong value, never a brace to a customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.console.customer import BillingFacts, VerifiedCustomer
from bot.formatters import euros, italian_date

# name -> what the supervisors' page says it becomes
VARIABLES: dict[str, str] = {
    "nome": "nome e cognome del cliente verificato",
    "operatore": "il nome dell'operatore che risponde",
    "fornitura": "luce o gas: la fornitura della bolletta aperta (se ce n'è una sola)",
    "importo": "importo della bolletta aperta (se ce n'è una sola)",
    "scadenza": "scadenza della bolletta aperta (se ce n'è una sola)",
    "totale_da_pagare": "somma delle bollette aperte",
}
# the variables that need the customer's bills (a call to the billing backend)
BILL_VARIABLES = {"fornitura", "importo", "scadenza", "totale_da_pagare"}
# linear: one bounded character class between two literal braces
PLACEHOLDER = re.compile(r"\{([a-z_]{1,40})\}")


def placeholders(text: str) -> list[str]:
    """The variable names a text uses, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def unknown_variables(text: str) -> list[str]:
    return [name for name in placeholders(text) if name not in VARIABLES]


def unfilled(text: str) -> list[str]:
    """Placeholders still in a text, known or not (a reply must not go out with one: a customer
    never needs `{word}`, and a reply written before a variable was renamed must not slip out)."""
    return placeholders(text)


def agent_name(username: str) -> str:
    return username[:1].upper() + username[1:]


def values_for(agent: str, customer: VerifiedCustomer | None, facts: BillingFacts | None) -> dict[str, str]:
    """The variables known for this conversation, already written the Italian way."""
    values = {"operatore": agent_name(agent)}
    if customer is None:
        return values
    if customer.name:
        values["nome"] = customer.name
    if facts is None or facts.problem:
        return values
    if facts.bills:
        values["totale_da_pagare"] = euros(sum(b["amount_cents"] for b in facts.bills))
    bill = facts.open_bill
    if bill is not None:
        values["fornitura"] = bill["supply"]
        values["importo"] = euros(bill["amount_cents"])
        values["scadenza"] = italian_date(date.fromisoformat(bill["due_date"]))
    return values


@dataclass(frozen=True)
class Filled:
    text: str
    missing: list[str]


def fill(body: str, values: Mapping[str, str]) -> Filled:
    """The body with every known value in place; the others stay as `{name}`."""
    text = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)
    return Filled(text=text, missing=[name for name in placeholders(body) if name not in values])
