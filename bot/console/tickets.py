"""Who may act on a ticket: the agent it is assigned to, or a supervisor (any ticket).

A waiting ticket belongs to nobody: the first agent to take it (or to answer it) gets it. Once
taken, another agent may read the conversation but not answer, close or hand it back until the
assignee or a supervisor transfers it to them. Each change is one conditional UPDATE, so two
agents acting at once cannot both win.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.console.auth import StaffMember
from bot.support.handoff import OPEN, utcnow
from bot.support.models import AuditEntry, StaffUser, Ticket

NOT_YOURS = (
    "Questa conversazione è assegnata a un altro operatore: può intervenire solo dopo che Le è stata trasferita."
)


class TicketRules:
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def take(self, ticket_id: int, staff: StaffMember) -> Ticket:
        """A waiting ticket becomes the agent's; a taken one stays with its assignee."""
        with self.sessions() as session, session.begin():
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status == "waiting")
                .values(status="active", taken_at=utcnow(), taken_by=staff.username)
            )
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise HTTPException(404, "ticket inesistente")
            return ticket

    def claim(self, ticket: Ticket, staff: StaffMember) -> Ticket:
        """The ticket, if this member may act on it (taking it when it is waiting); else 403."""
        if ticket.status == "waiting":
            ticket = self.take(ticket.id, staff)
        if staff.is_supervisor or ticket.taken_by == staff.username:
            return ticket
        raise HTTPException(403, NOT_YOURS)

    def close(self, ticket: Ticket, staff: StaffMember, outcome: str, ask_rating: bool = False) -> None:
        """Closed only if still open and still this member's (a transfer may have just happened).
        `ask_rating`: the customer is being asked for a satisfaction rating (bot/csat.py)."""
        condition = [Ticket.id == ticket.id, Ticket.status.in_(OPEN)]
        if not staff.is_supervisor:
            condition.append((Ticket.taken_by == staff.username) | (Ticket.status == "waiting"))
        now = utcnow()
        with self.sessions() as session, session.begin():
            closed = session.execute(
                update(Ticket)
                .where(*condition)
                .values(status="closed", closed_at=now, outcome=outcome, csat_asked_at=now if ask_rating else None)
                .execution_options(synchronize_session=False)
            )
            if not closed.rowcount:
                raise HTTPException(403, NOT_YOURS)

    def transfer(self, ticket_id: int, staff: StaffMember, to: str) -> Ticket:
        with self.sessions() as session, session.begin():
            target = session.execute(select(StaffUser).where(StaffUser.username == to)).scalar_one_or_none()
            if target is None:
                raise HTTPException(404, "operatore inesistente")
            ticket: Ticket | None = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status not in OPEN:
                raise HTTPException(404, "nessun passaggio a operatore aperto con questo numero")
            condition = [Ticket.id == ticket_id, Ticket.status.in_(OPEN)]
            if not staff.is_supervisor:
                condition.append(Ticket.taken_by == staff.username)
            previous = ticket.taken_by
            moved = session.execute(
                update(Ticket)
                .where(*condition)
                .values(status="active", taken_by=target.username, taken_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if not moved.rowcount:
                raise HTTPException(
                    403, "Solo l'operatore assegnato o un supervisore può trasferire questa conversazione."
                )
            session.add(
                AuditEntry(
                    at=utcnow(),
                    actor=staff.username,
                    action="transfer",
                    conversation_id=ticket.conversation_id,
                    detail=f"ticket {ticket_id} from {previous or 'queue'} to {target.username}",
                )
            )
            session.flush()
            session.refresh(ticket)
            return ticket
