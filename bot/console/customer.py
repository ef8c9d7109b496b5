"""The customer panel of the agent desk (issue 14): who the conversation's customer is, as the
billing backend verified them in it; their open bills, installment plans and deferrals; and their
conversations on every channel, one timeline per customer code.

Trust (docs/security.md, "The agent desk's customer panel"): the console reads a customer's
billing data only with the customer token the backend issued in this very conversation (the
`customer_token` slot, written by the action server from the backend's answer), within its
lifetime (`CUSTOMER_TOKEN_MINUTES`), plus the service token, through the one billing client. It
has no way to name another customer: the backend answers 403 when the code is not the token's.
The console never decodes the token; the backend's 401 says when it has expired.

The timeline lists the conversations whose summary says the same customer code was verified in
them (bot/support/summaries.py; the summaries' customer-code index answers it): a code typed or
looked up from a phone number without a verification does not join a customer's timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.billing.client import BillingClient, BillingError, BillingUnavailable
from bot.console.conversations import ConversationStore
from bot.console.refs import ConversationRefs
from bot.formatters import euros, italian_date
from bot.intents import INTENT_LABELS
from bot.masking import mask_customer_code, names_masker
from bot.support.handoff import channel_label, masked_name
from bot.support.models import ConversationSummary, Ticket

logger = logging.getLogger(__name__)

TIMELINE_LIMIT = 50
PREVIEW_CHARS = 120
# what a customer says in every conversation: not what the conversation was about
SMALL_TALK = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "out_of_scope", "nlu_fallback"}
# the panel's states, as the agent reads them
NOT_VERIFIED = "Cliente non verificato: l'assistente non ha verificato la sua identità in questa conversazione."
EXPIRED = (
    "La verifica del cliente è scaduta: bollette, rate e rinvii non sono più consultabili da questa "
    "conversazione (li vede di nuovo se il cliente si identifica ancora)."
)
UNAVAILABLE = "Il sistema delle bollette non risponde: riprovi tra poco."
REFUSED = (
    "Il sistema delle bollette non riconosce la verifica di questa conversazione: se serve, chieda al "
    "cliente di identificarsi di nuovo con l'assistente."
)


@dataclass(frozen=True)
class VerifiedCustomer:
    """The customer as the backend verified them in the conversation (its slots)."""

    code: str
    name: str | None
    token: str | None


def verified_customer(slots: Mapping[str, Any]) -> VerifiedCustomer | None:
    """Only what the action server wrote from the backend's verification: `customer_verified`
    with the code and the token of that answer. A code alone (typed, or the WhatsApp number's
    hint) is not an identity."""
    code, name, token = slots.get("customer_code"), slots.get("customer_name"), slots.get("customer_token")
    if slots.get("customer_verified") is not True or not isinstance(code, str) or not code:
        return None
    return VerifiedCustomer(
        code=code,
        name=name if isinstance(name, str) and name.strip() else None,
        token=token if isinstance(token, str) and token else None,
    )


@dataclass
class BillingFacts:
    """What the backend says of a verified customer now; `problem` says why there is nothing."""

    bills: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    @property
    def open_bill(self) -> dict[str, Any] | None:
        """The open bill, when there is exactly one: with several, "the" bill is not known."""
        return self.bills[0] if len(self.bills) == 1 else None


def billing_facts(billing: BillingClient, customer: VerifiedCustomer) -> BillingFacts:
    """Open bills and installment plans with the conversation's customer token (blocking: the
    console's routes are plain functions, run by FastAPI in its thread pool)."""
    if customer.token is None:
        return BillingFacts(problem=EXPIRED)
    try:
        bills = billing.bills(customer.code, customer.token, status="open")
        plans = billing.plans(customer.code, customer.token)
    except BillingUnavailable:
        return BillingFacts(problem=UNAVAILABLE)
    except BillingError as error:  # expired; or (never from the action server) invalid, another code's
        logger.info("customer panel: billing refused the conversation's token (%s)", error.code)
        return BillingFacts(problem=EXPIRED if error.code == "customer_token_expired" else REFUSED)
    return BillingFacts(bills=bills, plans=plans)


def _day(value: str) -> str:
    return italian_date(date.fromisoformat(value))


def bill_row(bill: Mapping[str, Any]) -> dict[str, Any]:
    """An open bill as the panel shows it (amounts and dates in Italian; a deferral said)."""
    row = {
        "supply": bill["supply"],
        "amount": euros(bill["amount_cents"]),
        "due": _day(bill["due_date"]),
        "arrears": bill["status"] == "arrears",
        "has_plan": bool(bill.get("has_installment_plan")),
        "deferral": None,
    }
    if bill.get("deferred"):
        row["deferral"] = f"rinviata dal {_day(bill['original_due_date'])} al {_day(bill['due_date'])}"
    return row


def plan_row(plan: Mapping[str, Any], bills: Mapping[str, Mapping[str, Any]], today: date) -> dict[str, Any]:
    """A plan, named by its bill as the assistant names bills (supply and amount, never the bill
    number, which holds the customer code)."""
    installments = plan.get("installments") or []
    coming = [i for i in installments if date.fromisoformat(i["due_date"]) >= today]
    following = coming[0] if coming else None
    return {
        "bill": f"{bills[plan['bill_id']]['supply']} {euros(bills[plan['bill_id']]['amount_cents'])}"
        if plan["bill_id"] in bills
        else "bolletta non più aperta",
        "total": euros(plan["total_cents"]),
        "installments": len(installments),
        "next": f"rata {following['number']} di {euros(following['amount_cents'])} il {_day(following['due_date'])}"
        if following
        else None,
    }


def timeline(
    sessions: sessionmaker,
    conversations: ConversationStore,
    refs: ConversationRefs,
    customer_code: str,
    current: str,
) -> list[dict[str, Any]]:
    """The customer's conversations on every channel, newest first (at most TIMELINE_LIMIT):
    those in which this customer code was verified. Masked as the review shows them."""
    conversations.catch_up_if_embedded()
    query = (
        select(ConversationSummary)
        .where(ConversationSummary.customer_code == customer_code, ConversationSummary.verified)
        .order_by(ConversationSummary.last.desc(), ConversationSummary.conversation_id.desc())
        .limit(TIMELINE_LIMIT)
    )
    with sessions() as session:
        found = list(session.execute(query).scalars())
        ids = [s.conversation_id for s in found]
        outcomes: dict[str, str] = {}
        if ids:
            rows = session.execute(
                select(Ticket.conversation_id, Ticket.outcome)
                .where(Ticket.conversation_id.in_(ids), Ticket.outcome.is_not(None))
                .order_by(Ticket.id)
            )
            outcomes = {row.conversation_id: row.outcome for row in rows}
    return [
        {
            "id": refs.shown(s.conversation_id),
            "current": s.conversation_id == current,
            "channel": s.channel,
            "channel_label": channel_label(s.channel),
            "started": s.started,
            "last": s.last,
            "user_turns": s.user_turns,
            "topics": [INTENT_LABELS.get(i, i) for i in s.intents if i not in SMALL_TALK],
            "handed_off": s.handed_off,
            "outcome": outcomes.get(s.conversation_id),
            "preview": names_masker(s.names)(s.preview or "")[:PREVIEW_CHARS],
        }
        for s in found
    ]


def panel(
    slots: Mapping[str, Any],
    billing: BillingClient,
    sessions: sessionmaker,
    conversations: ConversationStore,
    refs: ConversationRefs,
    conversation_id: str,
    today: date,
) -> dict[str, Any]:
    """The panel of one conversation: the customer masked, their billing facts, their timeline."""
    customer = verified_customer(slots)
    if customer is None:
        return {"verified": False, "message": NOT_VERIFIED}
    facts = billing_facts(billing, customer)
    return {
        "verified": True,
        "customer": {"name": masked_name(customer.name), "code": mask_customer_code(customer.code)},
        "message": facts.problem,
        "bills": [bill_row(b) for b in facts.bills],
        "plans": [plan_row(p, {b["id"]: b for b in facts.bills}, today) for p in facts.plans],
        "timeline": timeline(sessions, conversations, refs, customer.code, conversation_id),
    }
