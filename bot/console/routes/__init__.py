"""Console routes (mounted under /console by bot.web.app).

Every route but the login form and the static files needs a staff session; every POST also
its CSRF token (the login form a pre-session one). The conversation itself lives in Rasa's
tracker store: the console reads it, and writes agent turns through Rasa's HTTP API
(`/conversations/{id}/tracker/events` with the latest input channel as output channel, so the
customer receives them on the channel they are on).

Supervisors may act on any ticket, see the "Sicurezza" page and export; agents act only on the
tickets assigned to them (bot/console/tickets.py). A conversation id that is personal data (an
old WhatsApp id: the phone number) is shown, linked and exported as an opaque reference
(bot/console/refs.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, constr
from sqlalchemy import select

from bot.console import auth
from bot.console.headers import install_security_headers
from bot.console.routes import access, conversation, queue, review
from bot.console.routes.deps import TEMPLATES, Console, NotLoggedIn
from bot.console.turns import agent_turn, agent_turn_of
from bot.settings import Settings
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, Ticket

# what bot.web.app and the tests import from here
__all__ = ["NotLoggedIn", "agent_turn", "agent_turn_of", "build_router", "install_security_headers"]

class UnlockBody(BaseModel):
    username: constr(strip_whitespace=True, min_length=1, max_length=80)


def build_router(settings: Settings) -> APIRouter:
    console = Console.build(settings)
    sessions, throttle = console.sessions, console.throttle
    router = APIRouter(prefix="/console")
    member = console.member
    supervisor, supervisor_with_csrf = console.supervisor, console.supervisor_with_csrf

    router.include_router(access.router(console))
    router.include_router(queue.router(console))
    router.include_router(conversation.router(console))
    router.include_router(review.router(console))
    conversations = console.conversations

    # ------------------------------------------------------------------ metrics
    @router.get("/api/metrics")
    def metrics(staff: auth.StaffMember = Depends(member)) -> Any:
        every = conversations.conversations()
        with sessions() as session:
            tickets = session.execute(select(Ticket)).scalars().all()
        per_day: Dict[str, Counter] = {}
        intents: Counter = Counter()
        for c in every:
            day = datetime.fromtimestamp(c.started, tz=timezone.utc).date().isoformat()
            per_day.setdefault(day, Counter())[c.channel or "?"] += 1
            intents.update(i for i in c.intents if i not in ("nlu_fallback",))
        handed = {t.conversation_id for t in tickets}
        replies = [(t.first_reply_at - t.created_at).total_seconds() for t in tickets if t.first_reply_at]
        total = len(every) or 1
        handed_rate = len([c for c in every if c.conversation_id in handed or c.handed_off]) / total
        return {
            "conversations": len(every),
            "per_day": {day: dict(counts) for day, counts in sorted(per_day.items())},
            "containment": round(1 - handed_rate, 3),
            "handoff_rate": round(handed_rate, 3),
            "fallback_rate": round(len([c for c in every if c.fallback]) / total, 3),
            "top_intents": intents.most_common(10),
            "first_agent_reply_seconds": round(sum(replies) / len(replies), 1) if replies else None,
        }

    @router.get("/metrics", response_class=HTMLResponse)
    def metrics_page(request: Request, staff: auth.StaffMember = Depends(member)) -> Any:
        return TEMPLATES.TemplateResponse("metrics.html", {"request": request, "staff": staff})

    # ------------------------------------------------------------------ security (supervisors)
    @router.get("/security", response_class=HTMLResponse)
    def security_page(request: Request, staff: auth.StaffMember = Depends(supervisor)) -> Any:
        return TEMPLATES.TemplateResponse("security.html", {"request": request, "staff": staff,
                                                            "lockout": settings.console_lockout_failures})

    @router.get("/api/security")
    def security(staff: auth.StaffMember = Depends(supervisor)) -> Any:
        now = utcnow()
        failures = throttle.recent_failures(now - timedelta(days=7))
        day_ago = (now - timedelta(days=1)).isoformat(timespec="seconds")
        return {"locked": throttle.locked_accounts(), "recent_failures": failures,
                "failures_last_day": len([f for f in failures if f["at"] >= day_ago])}

    @router.post("/api/security/unlock")
    def unlock(body: UnlockBody, staff: auth.StaffMember = Depends(supervisor_with_csrf)) -> Any:
        if not throttle.unlock(body.username):
            raise HTTPException(404, "nessun account bloccato con questo nome")
        with sessions() as session, session.begin():
            session.add(AuditEntry(at=utcnow(), actor=staff.username, action="unlock", conversation_id=None,
                                   detail=f"account {body.username} unlocked"))
        return {"status": "unlocked"}

    return router
