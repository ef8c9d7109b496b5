"""The supervisors' "Sicurezza" page: locked accounts and recent login failures (from the
audit log), and the unlock of an account, itself audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bot.console.auth import StaffMember
from bot.console.routes.deps import TEMPLATES, Console, StaffName
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry


class UnlockBody(BaseModel):
    username: StaffName


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    throttle = console.throttle

    @routes.get("/security", response_class=HTMLResponse)
    def security_page(request: Request, staff: StaffMember = Depends(console.supervisor)) -> Any:
        lockout = console.settings.console_lockout_failures
        return TEMPLATES.TemplateResponse("security.html", {"request": request, "staff": staff, "lockout": lockout})

    @routes.get("/api/security")
    def security(staff: StaffMember = Depends(console.supervisor)) -> Any:
        now = utcnow()
        failures = throttle.recent_failures(now - timedelta(days=7))
        day_ago = (now - timedelta(days=1)).isoformat(timespec="seconds")
        return {
            "locked": throttle.locked_accounts(),
            "recent_failures": failures,
            "failures_last_day": len([f for f in failures if f["at"] >= day_ago]),
        }

    @routes.post("/api/security/unlock")
    def unlock(body: UnlockBody, staff: StaffMember = Depends(console.supervisor_with_csrf)) -> Any:
        if not throttle.unlock(body.username):
            raise HTTPException(404, "nessun account bloccato con questo nome")
        entry = AuditEntry(
            at=utcnow(),
            actor=staff.username,
            action="unlock",
            conversation_id=None,
            detail=f"account {body.username} unlocked",
        )
        with console.sessions() as session, session.begin():
            session.add(entry)
        return {"status": "unlocked"}

    return routes
