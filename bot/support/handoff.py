"""Handoff to a person: tickets in the support database and what the customer is told.

The action server opens the ticket and pauses the conversation (Rasa's ConversationPaused);
the console lists, takes, answers and closes tickets. Blocking database calls: the action
server runs them in a thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import clock
from bot.csat import SATISFIED
from bot.db import session_factory
from bot.masking import mask_customer_code, names_masker
from bot.settings import Settings, get_settings
from bot.support.db import make_engine, upgrade_schema
from bot.support.hours import OpeningHours, italian_moment
from bot.support.models import DailyHandoff, Ticket
from bot.support.review_index import dialect_insert

REASONS = {
    "request_human": "il cliente ha chiesto un operatore",
    "fallback": "l'assistente non ha capito due volte",
    "identity_failed": "tre tentativi di identificazione falliti",
    "backend_down": "sistema delle bollette non disponibile",
    "not_eligible": "richiesta non possibile online, il cliente vuole aiuto",
    "emergency": "EMERGENZA: il cliente segnala odore di gas o un guasto (numeri di pronto intervento già dati)",
    # issue 12: the self-service tickets
    "complaint": "reclamo scritto registrato: risposta scritta entro il termine ARERA (protocollo nel riepilogo)",
    "payment_not_registered": "il cliente dice di aver pagato ma il pagamento non risulta: verificare data e metodo",
}
OPEN = ("waiting", "active")
# the metadata key of a customer's message sent while the conversation waits for (or is with) a
# person (bot/conversation_guards.py): the summaries do not count it as "not understood"
WAITING_FOR_AGENT = "waiting_for_agent"
# the queue shows channels as agents say them
CHANNELS = {"socketio": "Sito web", "whatsapp": "WhatsApp", "rest": "Sistemi interni (API)"}


def channel_label(channel: str | None) -> str:
    return CHANNELS.get(channel or "", channel or "sconosciuto")


def masked_name(name: Any) -> str | None:
    """'Mario Rossi' -> 'M*** R***': the same masking as the transcript's names."""
    if not isinstance(name, str) or not name.strip():
        return None
    return " ".join(word[0] + "***" for word in name.split()[:4])


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def count_handoff(session: Session, ticket: Ticket, handoffs: int = 0, rated: int = 0, satisfied: int = 0) -> None:
    """Move the daily handoffs-by-reason rollup (the metrics page's figures) by one ticket's
    change, in the caller's transaction: the day the ticket was opened (UTC) and its reason."""
    insert = dialect_insert(session, DailyHandoff)
    table = DailyHandoff.__table__.c
    counts = {"handoffs": handoffs, "rated": rated, "satisfied": satisfied}
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["day", "reason"], set_={name: table[name] + insert.excluded[name] for name in counts}
        ),
        [{"day": ticket.created_at.date().isoformat(), "reason": ticket.reason, **counts}],
    )


def conversation_summary(
    events: Iterable[dict[str, Any]], slots: dict[str, Any], channel: str | None, reason: str, last: int = 8
) -> dict[str, Any]:
    """What an agent reads first: who (masked), what they wanted, the last messages, why."""
    events = list(events)
    code = slots.get("customer_code")
    # the customer code masked in the texts as in the summary's field (and the transcript)
    mask_text = names_masker([slots.get("customer_name") or ""], [str(code)] if code else [])
    intents: list[str] = []
    messages: list[dict[str, str]] = []
    for event in events:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent and intent not in ("nlu_fallback", "affirm", "deny", "inform"):
                intents.append(intent)
            messages.append({"from": "cliente", "text": mask_text(event.get("text") or "")})
        elif event.get("event") == "bot" and event.get("text"):
            messages.append({"from": "assistente", "text": mask_text(event["text"])})
    return {
        "channel": channel or "sconosciuto",
        "customer": {
            "verified": bool(slots.get("customer_verified")),
            "code": mask_customer_code(str(code)) if code else None,
            "name": masked_name(slots.get("customer_name")),
        },
        "wanted": list(dict.fromkeys(intents)),
        "request": {k: slots.get(k) for k in ("service", "bill_id") if slots.get(k)},
        "reason": REASONS.get(reason, reason),
        "last_messages": messages[-last:],
    }


@dataclass
class QueueInfo:
    ticket_id: int
    position: int  # 1 = next
    open_now: bool
    message: str


class TicketDesk:
    """Tickets in the support database."""

    def __init__(self, url: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        upgrade_schema(url or self.settings.support_database_url)
        self.sessions = session_factory(make_engine(url or self.settings.support_database_url))
        self.hours = OpeningHours.parse(self.settings.support_hours)

    def open_ticket(self, conversation_id: str, channel: str | None, reason: str, summary: dict[str, Any]) -> QueueInfo:
        """A ticket for this conversation (the open one if there is one) and what to tell the customer."""
        with self.sessions() as session, session.begin():
            ticket = session.execute(
                select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
            ).scalar_one_or_none()
            if ticket is None:
                ticket = Ticket(
                    conversation_id=conversation_id,
                    channel=channel,
                    status="waiting",
                    reason=reason,
                    summary=summary,
                    created_at=utcnow(),
                )
                session.add(ticket)
                session.flush()
                count_handoff(session, ticket, handoffs=1)
            position = session.execute(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.status == "waiting", Ticket.created_at <= ticket.created_at)
            ).scalar_one()
            ticket_id = ticket.id
        return QueueInfo(ticket_id, max(position, 1), *self._customer_message(max(position, 1)))

    def _customer_message(self, position: int) -> tuple:
        now = clock.now()
        call = f"Se preferisce, può anche chiamare il numero verde {self.settings.call_centre_number}."
        if self.hours.is_open(now):
            wait = position * self.settings.support_minutes_per_conversation
            return True, (
                f"La metto in contatto con un operatore: è in coda in posizione {position}, con un'attesa "
                f"stimata di circa {wait} minuti. L'operatore vedrà tutta la conversazione: nel frattempo "
                f"può continuare a scrivermi qui. {call}"
            )
        opening = self.hours.next_opening(now)
        when = italian_moment(opening, now) if opening else "alla riapertura"
        return False, (
            "In questo momento il servizio clienti è chiuso. Ho registrato la Sua richiesta con tutta la "
            f"conversazione: un operatore Le risponderà qui {when}. Se vuole, aggiunga pure altri dettagli. "
            f"{call}"
        )

    # ------------------------------------------------------------------ for the console
    def waiting_and_active(self) -> list[Ticket]:
        with self.sessions() as session:
            return list(
                session.execute(select(Ticket).where(Ticket.status.in_(OPEN)).order_by(Ticket.created_at)).scalars()
            )

    def get(self, ticket_id: int) -> Ticket | None:
        with self.sessions() as session:
            return session.get(Ticket, ticket_id)

    def open_for(self, conversation_id: str) -> Ticket | None:
        with self.sessions() as session:
            return session.execute(
                select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
            ).scalar_one_or_none()

    def take(self, ticket_id: int, agent: str) -> Ticket:
        with self.sessions() as session, session.begin():
            ticket = session.get(Ticket, ticket_id)
            if ticket.status == "waiting":
                ticket.status, ticket.taken_at, ticket.taken_by = "active", utcnow(), agent
            return ticket

    def requeue_unanswered(self, now: datetime | None = None) -> int:
        """Taken tickets nobody answered within SUPPORT_UNANSWERED_MINUTES go back to the queue
        (one conditional UPDATE: a reply arriving at the same moment keeps the ticket)."""
        limit = (now or utcnow()) - timedelta(minutes=self.settings.support_unanswered_minutes)
        with self.sessions() as session, session.begin():
            moved = session.execute(
                update(Ticket)
                .where(
                    Ticket.status == "active",
                    Ticket.first_reply_at.is_(None),
                    Ticket.taken_at < limit,
                )
                .values(status="waiting", taken_by=None, taken_at=None)
                .execution_options(synchronize_session=False)
            )
            return int(moved.rowcount or 0)

    def replied(self, ticket_id: int) -> None:
        with self.sessions() as session, session.begin():
            ticket = session.get(Ticket, ticket_id)
            if ticket.first_reply_at is None:
                ticket.first_reply_at = utcnow()

    def record_rating(self, conversation_id: str, rating: int) -> bool:
        """The customer's 1-5 rating, on the latest ticket of the conversation that asked for one
        and has none yet: recorded once (a conditional UPDATE), and counted in the rollup in the
        same transaction. False when no ticket waits for a rating."""
        with self.sessions() as session, session.begin():
            ticket = session.execute(
                select(Ticket)
                .where(Ticket.conversation_id == conversation_id, Ticket.csat_asked_at.is_not(None))
                .order_by(Ticket.csat_asked_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if ticket is None or ticket.csat_rating is not None:
                return False
            moved = session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.csat_rating.is_(None))
                .values(csat_rating=rating, csat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if not moved.rowcount:
                return False
            count_handoff(session, ticket, rated=1, satisfied=int(rating >= SATISFIED))
            return True

    def close(self, ticket_id: int, outcome: str) -> Ticket:
        with self.sessions() as session, session.begin():
            ticket = session.get(Ticket, ticket_id)
            ticket.status, ticket.closed_at, ticket.outcome = "closed", utcnow(), outcome
            return ticket
