"""Canned replies (issue 14): the supervisors' page to write, edit and delete them (each change
written to the audit log), the list every member reads, and one reply filled for a conversation
from its verified customer's data (bot/console/canned.py says which values are ever filled)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConstrainedStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.console.auth import StaffMember
from bot.console.canned import BILL_VARIABLES, VARIABLES, fill, placeholders, unknown_variables, values_for
from bot.console.customer import billing_facts, verified_customer
from bot.console.routes.deps import TEMPLATES, Console
from bot.console.routes.queue import ReplyText
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, CannedReply


class Title(ConstrainedStr):
    strip_whitespace = True
    min_length = 1
    max_length = 80


class CannedBody(BaseModel):
    title: Title
    body: ReplyText  # what it becomes: an agent's reply, with its bound


def listed(reply: CannedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "title": reply.title,
        "body": reply.body,
        "updated_by": reply.updated_by or reply.created_by,
        "updated_at": (reply.updated_at or reply.created_at).isoformat(timespec="seconds"),
    }


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    sessions, refs = console.sessions, console.refs

    def checked(body: CannedBody) -> CannedBody:
        unknown = unknown_variables(body.body)
        if unknown:
            known = ", ".join("{" + name + "}" for name in VARIABLES)
            wrong = ", ".join("{" + name + "}" for name in unknown)
            raise HTTPException(422, f"Variabili sconosciute: {wrong}. Quelle disponibili: {known}.")
        return body

    def audit(session: Session, staff: StaffMember, action: str, reply: CannedReply) -> None:
        session.add(
            AuditEntry(
                at=utcnow(),
                actor=staff.username,
                action=action,
                conversation_id=None,
                detail=f"canned reply {reply.id} ({reply.title})",
            )
        )

    @routes.get("/canned", response_class=HTMLResponse)
    def canned_page(request: Request, staff: StaffMember = Depends(console.supervisor)) -> Any:
        return TEMPLATES.TemplateResponse("canned.html", {"request": request, "staff": staff, "variables": VARIABLES})

    @routes.get("/api/canned")
    def canned(staff: StaffMember = Depends(console.member)) -> Any:
        with sessions() as session:
            replies = session.execute(select(CannedReply).order_by(CannedReply.title)).scalars()
            return {"replies": [listed(r) for r in replies], "variables": VARIABLES}

    def saved(staff: StaffMember, action: str, change: Callable[[Session], CannedReply]) -> dict[str, Any]:
        """A creation or a change, audited in the same transaction; a title taken is a 409."""
        try:
            with sessions() as session, session.begin():
                reply = change(session)
                session.flush()
                audit(session, staff, action, reply)
                return listed(reply)
        except IntegrityError:
            raise HTTPException(409, "Esiste già una risposta pronta con questo titolo.") from None

    def existing(session: Session, reply_id: int) -> CannedReply:
        reply = session.get(CannedReply, reply_id)
        if reply is None:
            raise HTTPException(404, "Risposta pronta inesistente.")
        return reply

    @routes.post("/api/canned", status_code=201)
    def create(body: CannedBody, staff: StaffMember = Depends(console.supervisor_with_csrf)) -> Any:
        checked(body)

        def new(session: Session) -> CannedReply:
            reply = CannedReply(title=body.title, body=body.body, created_by=staff.username, created_at=utcnow())
            session.add(reply)
            return reply

        return saved(staff, "canned_create", new)

    @routes.post("/api/canned/{reply_id}")
    def update(reply_id: int, body: CannedBody, staff: StaffMember = Depends(console.supervisor_with_csrf)) -> Any:
        checked(body)

        def changed(session: Session) -> CannedReply:
            reply = existing(session, reply_id)
            reply.title, reply.body = body.title, body.body
            reply.updated_by, reply.updated_at = staff.username, utcnow()
            return reply

        return saved(staff, "canned_update", changed)

    @routes.post("/api/canned/{reply_id}/delete")
    def delete(reply_id: int, staff: StaffMember = Depends(console.supervisor_with_csrf)) -> Any:
        with sessions() as session, session.begin():
            reply = existing(session, reply_id)
            audit(session, staff, "canned_delete", reply)
            session.delete(reply)
        return {"status": "deleted"}

    @routes.get("/api/conversations/{shown_id}/canned/{reply_id}")
    def filled(shown_id: str, reply_id: int, staff: StaffMember = Depends(console.member)) -> Any:
        """One canned reply with this conversation's values: what the picker puts in the reply box."""
        conversation_id = refs.resolve(shown_id)
        with sessions() as session:
            body = existing(session, reply_id).body
        used = set(placeholders(body))  # Rasa and the backend only asked for what the text uses
        customer = verified_customer(console.rasa.slots(conversation_id)) if used - {"operatore"} else None
        facts = billing_facts(console.billing, customer) if customer and used & BILL_VARIABLES else None
        result = fill(body, values_for(staff.username, customer, facts))
        return {"text": result.text, "missing": result.missing}

    return routes
