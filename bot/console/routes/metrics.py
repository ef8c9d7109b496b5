"""Metrics for the team: conversations per day and channel, containment (without a person),
handoff and fallback rates, top intents, time to the first agent reply. Read from the summaries
table and the tickets, never from the events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bot.console.auth import StaffMember
from bot.console.routes.deps import TEMPLATES, Console
from bot.support.models import Ticket


def router(console: Console) -> APIRouter:
    routes = APIRouter()

    @routes.get("/api/metrics")
    def metrics(staff: StaffMember = Depends(console.member)) -> Any:
        every = console.conversations.conversations()
        with console.sessions() as session:
            tickets = session.execute(select(Ticket)).scalars().all()
        per_day: dict[str, Counter[str]] = {}
        intents: Counter[str] = Counter()
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

    @routes.get("/metrics", response_class=HTMLResponse)
    def metrics_page(request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        return TEMPLATES.TemplateResponse("metrics.html", {"request": request, "staff": staff})

    return routes
