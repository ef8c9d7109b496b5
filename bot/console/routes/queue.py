"""The handoff queue and what an agent does with a conversation handed over: take, transfer,
reply, hand back to the assistant, close with an outcome.

Agents act only on the tickets assigned to them, supervisors on any (bot/console/tickets.py).
The agent's turns go through Rasa's HTTP API as bot events on the conversation's latest input
channel, so the customer receives them on the channel they are on.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConstrainedStr

from bot.console.auth import StaffMember
from bot.console.canned import unfilled
from bot.console.routes.deps import TEMPLATES, Console, StaffName
from bot.console.turns import agent_turn
from bot.support.handoff import channel_label, utcnow
from bot.support.models import Ticket

# the outcome an agent records when closing: code -> what the console shows (issue 14)
OUTCOMES = {
    "risolto": "Risolto",
    "non_risolto": "Non risolto",
    "richiamata": "Da richiamare",
    "reclamo": "Reclamo aperto",
}


class ReplyText(ConstrainedStr):
    strip_whitespace = True
    min_length = 1
    max_length = 2000


class Outcome(ConstrainedStr):
    regex = re.compile("^(" + "|".join(OUTCOMES) + ")$")


class ReplyBody(BaseModel):
    text: ReplyText


class CloseBody(BaseModel):
    outcome: Outcome


class TransferBody(BaseModel):
    to: StaffName


class TypingBody(BaseModel):
    typing: bool


NOT_OPEN = "La conversazione è già stata restituita all'assistente o chiusa: {what}"


def queue_rows(console: Console) -> list[dict[str, Any]]:
    """The queue as agents read it: who (masked), channel and reason in Italian, verified or not,
    waiting time, assignee, emergency. Unanswered taken tickets go back to the queue first."""
    console.desk.requeue_unanswered()
    now = utcnow()
    rows = []
    for t in console.desk.waiting_and_active():
        summary = t.summary or {}
        customer = summary.get("customer") or {}
        rows.append(
            {
                "id": t.id,
                "conversation_id": console.refs.shown(t.conversation_id),
                "channel": t.channel,
                "channel_label": channel_label(t.channel),
                "status": t.status,
                "reason": summary.get("reason"),
                "emergency": bool(summary.get("emergency")),
                "display_name": customer.get("name")
                or ("Cliente verificato" if customer.get("verified") else "Cliente non identificato"),
                "verified": bool(customer.get("verified")),
                "taken_by": t.taken_by,
                "summary": summary,
                "created_at": t.created_at.replace(tzinfo=timezone.utc).timestamp(),
                "waiting_seconds": int(((t.taken_at or now) - t.created_at).total_seconds()),
            }
        )
    return rows


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    desk, rules, refs = console.desk, console.rules, console.refs

    def assignment(ticket: Ticket) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "status": ticket.status,
            "taken_by": ticket.taken_by,
            "conversation_id": refs.shown(ticket.conversation_id),
        }

    def open_ticket_of(conversation_id: str, what: str = "non c'è più nulla da fare qui.") -> Ticket:
        ticket = desk.open_for(conversation_id)
        if ticket is None:
            raise HTTPException(409, NOT_OPEN.format(what=what))
        return ticket

    def give_back(conversation_id: str, message: str) -> None:
        # The bot speaks, then listens: without the action_listen the policies would not
        # recognise the next message as a new turn (none was logged while paused).
        console.rasa.send(
            conversation_id,
            [{"event": "resume"}, {"event": "bot", "text": message}, {"event": "action", "name": "action_listen"}],
        )

    @routes.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        return TEMPLATES.TemplateResponse(
            "queue.html",
            {"request": request, "staff": staff, "unanswered_minutes": console.settings.support_unanswered_minutes},
        )

    @routes.get("/api/queue")
    def queue(staff: StaffMember = Depends(console.member)) -> Any:
        return {"tickets": queue_rows(console)}

    @routes.post("/api/tickets/{ticket_id}/take")
    def take(ticket_id: int, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        """One conditional UPDATE: of two agents taking the same ticket at once, one gets it and
        the other a 409 naming the winner."""
        ticket = rules.take(ticket_id, staff)
        if ticket.status != "active":
            raise HTTPException(409, "Questa richiesta è già stata chiusa.")
        if ticket.taken_by != staff.username:
            raise HTTPException(409, f"Questa richiesta è già stata presa da {ticket.taken_by}.")
        return assignment(ticket)

    @routes.post("/api/tickets/{ticket_id}/transfer")
    def transfer(ticket_id: int, body: TransferBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        return assignment(rules.transfer(ticket_id, staff, body.to))

    @routes.post("/api/conversations/{shown_id}/reply")
    def reply(shown_id: str, body: ReplyBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        missing = unfilled(body.text)  # a canned reply's placeholder never reaches a customer
        if missing:
            names = ", ".join("{" + name + "}" for name in missing)
            raise HTTPException(422, f"Completi o tolga {names} prima di inviare: il messaggio non è stato inviato.")
        ticket = rules.claim(open_ticket_of(conversation_id, "il messaggio non è stato inviato."), staff)
        agent = staff.username
        turn = {
            "event": "bot",
            "text": None,
            "metadata": {"sender": "agent", "agent_name": agent},
            "data": {"custom": agent_turn(agent, body.text)},
            "timestamp": datetime.now(timezone.utc).timestamp(),
        }
        console.rasa.send(conversation_id, [turn])
        desk.replied(ticket.id)
        return {"status": "sent"}

    @routes.post("/api/conversations/{shown_id}/typing")
    def typing(shown_id: str, body: TypingBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        """The customer's widget shows "L'operatore sta scrivendo" (web conversations only)."""
        conversation_id = refs.resolve(shown_id)
        ticket = desk.open_for(conversation_id)
        if ticket is None or not conversation_id.startswith("web:"):
            return {"status": "not_shown"}
        if not (staff.is_supervisor or ticket.taken_by == staff.username):
            return {"status": "not_shown"}
        console.rasa.typing(conversation_id, body.typing)
        return {"status": "sent"}

    @routes.post("/api/conversations/{shown_id}/handback")
    def hand_back(shown_id: str, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        rules.close(rules.claim(open_ticket_of(conversation_id), staff), staff, "restituito_al_bot")
        give_back(conversation_id, "Sono di nuovo l'assistente virtuale. Posso aiutarLa in altro?")
        return {"status": "resumed"}

    @routes.post("/api/conversations/{shown_id}/close")
    def close(shown_id: str, body: CloseBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        rules.close(rules.claim(open_ticket_of(conversation_id), staff), staff, body.outcome, ask_rating=True)
        # the customer is asked for a 1-5 rating on their channel (bot/csat.py): buttons on the
        # web, a list on WhatsApp, and a typed "4" or "ottimo" understood as the same answer;
        # then the assistant listens (as give_back)
        console.rasa.send(conversation_id, [{"event": "resume"}])
        console.rasa.utter(conversation_id, "utter_ask_csat")
        console.rasa.send(conversation_id, [{"event": "action", "name": "action_listen"}])
        return {"status": "closed", "outcome": body.outcome}

    return routes
