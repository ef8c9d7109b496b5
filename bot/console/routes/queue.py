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
from bot.console.routes.deps import TEMPLATES, Console, StaffName
from bot.console.turns import agent_turn
from bot.support.handoff import utcnow
from bot.support.models import Ticket

OUTCOMES = ("risolto", "non_risolto", "richiamata", "reclamo")


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

    def open_ticket_of(conversation_id: str) -> Ticket:
        ticket = desk.open_for(conversation_id)
        if ticket is None:
            raise HTTPException(409, "nessun passaggio a operatore aperto per questa conversazione")
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
        return TEMPLATES.TemplateResponse("queue.html", {"request": request, "staff": staff})

    @routes.get("/api/queue")
    def queue(staff: StaffMember = Depends(console.member)) -> Any:
        now = utcnow()
        return {
            "tickets": [
                {
                    "id": t.id,
                    "conversation_id": refs.shown(t.conversation_id),
                    "channel": t.channel,
                    "status": t.status,
                    "reason": t.summary.get("reason"),
                    "taken_by": t.taken_by,
                    "summary": t.summary,
                    "waiting_seconds": int(((t.taken_at or now) - t.created_at).total_seconds()),
                }
                for t in desk.waiting_and_active()
            ]
        }

    @routes.post("/api/tickets/{ticket_id}/take")
    def take(ticket_id: int, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        return assignment(rules.take(ticket_id, staff))

    @routes.post("/api/tickets/{ticket_id}/transfer")
    def transfer(ticket_id: int, body: TransferBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        return assignment(rules.transfer(ticket_id, staff, body.to))

    @routes.post("/api/conversations/{shown_id}/reply")
    def reply(shown_id: str, body: ReplyBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        ticket = rules.claim(open_ticket_of(conversation_id), staff)
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

    @routes.post("/api/conversations/{shown_id}/handback")
    def hand_back(shown_id: str, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        rules.close(rules.claim(open_ticket_of(conversation_id), staff), staff, "restituito_al_bot")
        give_back(conversation_id, "Sono di nuovo l'assistente virtuale. Posso aiutarLa in altro?")
        return {"status": "resumed"}

    @routes.post("/api/conversations/{shown_id}/close")
    def close(shown_id: str, body: CloseBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        rules.close(rules.claim(open_ticket_of(conversation_id), staff), staff, body.outcome)
        give_back(conversation_id, "La conversazione con l'operatore si è conclusa. Se ha bisogno, sono qui.")
        return {"status": "closed", "outcome": body.outcome}

    return routes
