"""One conversation: its page, its live transcript from Rasa's tracker (masked), and the
supervisor's reveal of the transcript in clear, written to the audit log.

A conversation id that is personal data (an old WhatsApp id: the phone number) is shown and
linked as an opaque reference (bot/console/refs.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.console.auth import StaffMember
from bot.console.routes.deps import TEMPLATES, Console
from bot.console.routes.queue import OUTCOMES
from bot.console.turns import transcript
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry
from bot.support.whatsapp_status import conversation_status


def conversation_view(console: Console, conversation_id: str) -> dict[str, Any]:
    """What the live conversation view shows (also pushed by bot/console/routes/events.py)."""
    tracker = console.rasa.tracker(conversation_id)
    ticket = console.desk.open_for(conversation_id)
    with console.sessions() as session:  # WhatsApp: window open or closed, replies waiting, Meta's errors
        whatsapp = conversation_status(session, conversation_id)
    return {
        "whatsapp": whatsapp,
        "conversation_id": console.refs.shown(conversation_id),
        "paused": tracker.get("paused"),
        "channel": tracker.get("latest_input_channel"),
        "ticket": {"id": ticket.id, "status": ticket.status, "taken_by": ticket.taken_by, "summary": ticket.summary}
        if ticket
        else None,
        "turns": transcript(tracker.get("events") or []),
    }


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    refs = console.refs

    @routes.get("/conversations/{shown_id}", response_class=HTMLResponse)
    def conversation_page(shown_id: str, request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        shown = refs.shown(refs.resolve(shown_id))
        if shown != shown_id:  # a phone number typed in the address bar: off the URL at once
            return RedirectResponse(f"/console/conversations/{quote(shown, safe='')}", status_code=303)
        return TEMPLATES.TemplateResponse(
            "conversation.html", {"request": request, "staff": staff, "conversation_id": shown, "outcomes": OUTCOMES}
        )

    @routes.get("/api/conversations/{shown_id}")
    def conversation(shown_id: str, staff: StaffMember = Depends(console.member)) -> Any:
        return conversation_view(console, refs.resolve(shown_id))

    @routes.post("/api/conversations/{shown_id}/reveal")
    def reveal(shown_id: str, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        """The transcript in clear: supervisors only, and every reveal is written to the audit log."""
        conversation_id = refs.resolve(shown_id)
        if not staff.is_supervisor:
            raise HTTPException(403, "solo un supervisore può vedere i dati in chiaro")
        with console.sessions() as session, session.begin():
            session.add(
                AuditEntry(
                    at=utcnow(),
                    actor=staff.username,
                    action="reveal",
                    conversation_id=conversation_id,
                    detail="transcript shown in clear",
                )
            )
        return {"turns": transcript(console.conversations.events(conversation_id), masked=False)}

    return routes
