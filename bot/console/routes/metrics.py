"""Metrics for the team: conversations per day and channel, containment (without a person),
handoff and fallback rates, top intents, time to the first agent reply (mean and median), the
handoffs by reason and the CSAT (issue 14), for a range of days.

Read from the daily rollups the fold keeps (issue 17: a few rows per day, whatever the number
of conversations), the daily handoffs-by-reason rollup the ticket desk moves when a ticket is
opened or rated (bot/support/handoff.py), and, for the first agent reply, the tickets of the
range (indexed by creation time); never from the summaries or the events.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.auth import StaffMember
from bot.console.routes.deps import TEMPLATES, Console
from bot.support.handoff import REASONS
from bot.support.models import DailyHandoff, DailyIntent, DailyRollup, Ticket
from bot.support.review_index import ROLLUP_COUNTS

TOP_INTENTS = 10


def day_range(since: date | None = None, until: date | None = None) -> tuple[date | None, date | None]:
    if since and until and since > until:
        raise HTTPException(400, "La data iniziale è successiva a quella finale.")
    return since, until


def _within(query: Any, column: Any, since: date | None, until: date | None) -> Any:
    if since:
        query = query.where(column >= since.isoformat())
    if until:
        query = query.where(column <= until.isoformat())
    return query


def _waited(session: Session) -> Any:
    """Seconds from a ticket's opening to the agent's first reply, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Ticket.first_reply_at - Ticket.created_at)
    return (func.julianday(Ticket.first_reply_at) - func.julianday(Ticket.created_at)) * 86400


def _opened_within(query: Any, since: date | None, until: date | None) -> Any:
    if since:
        query = query.where(Ticket.created_at >= datetime.combine(since, time()))
    if until:
        query = query.where(Ticket.created_at < datetime.combine(until + timedelta(days=1), time()))
    return query


def _first_reply_seconds(session: Session, since: date | None, until: date | None) -> float | None:
    """The mean time to an agent's first reply on the tickets opened in the range."""
    query = _opened_within(select(func.avg(_waited(session))).where(Ticket.first_reply_at.is_not(None)), since, until)
    mean = session.execute(query).scalar()
    return round(float(mean), 1) if mean is not None else None


def _first_reply_median(session: Session, since: date | None, until: date | None) -> float | None:
    """The median time to an agent's first reply on the tickets opened in the range: the middle
    one (or the mean of the middle two) of the waits, sorted by the database."""
    waited = _waited(session)
    query = select(waited).where(Ticket.first_reply_at.is_not(None))
    query = _opened_within(query, since, until)
    count = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    if not count:
        return None
    middle = list(session.execute(query.order_by(waited).offset((count - 1) // 2).limit(2 - count % 2)).scalars())
    return round(sum(float(w) for w in middle) / len(middle), 1)


def _handoffs_by_reason(session: Session, since: date | None, until: date | None) -> list[dict[str, Any]]:
    """Handoffs per reason with the Italian legend, most frequent first, and their ratings."""
    sums = [func.sum(DailyHandoff.handoffs), func.sum(DailyHandoff.rated), func.sum(DailyHandoff.satisfied)]
    query = _within(select(DailyHandoff.reason, *sums), DailyHandoff.day, since, until).group_by(DailyHandoff.reason)
    rows = [
        {
            "reason": reason,
            "label": REASONS.get(reason, reason),
            "handoffs": int(n),
            "rated": int(r),
            "satisfied": int(ok),
        }
        for reason, n, r, ok in session.execute(query)
    ]
    return sorted(rows, key=lambda row: (-row["handoffs"], row["reason"]))


def csat(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """CSAT: the share of ratings of 4 or 5 among the ratings given (None without a rating)."""
    rated = sum(row["rated"] for row in rows)
    satisfied = sum(row["satisfied"] for row in rows)
    return {"rated": rated, "satisfied": satisfied, "share": round(satisfied / rated, 3) if rated else None}


def router(console: Console) -> APIRouter:
    routes = APIRouter()

    def rollups(since: date | None, until: date | None) -> list[DailyRollup]:
        console.conversations.catch_up_if_embedded()
        query = _within(select(DailyRollup), DailyRollup.day, since, until).order_by(
            DailyRollup.day, DailyRollup.channel
        )
        with console.sessions() as session:
            return list(session.execute(query).scalars())

    @routes.get("/api/metrics")
    def metrics(
        days: tuple[date | None, date | None] = Depends(day_range), staff: StaffMember = Depends(console.member)
    ) -> Any:
        since, until = days
        rows = rollups(since, until)
        per_day: dict[str, dict[str, int]] = {}
        totals = dict.fromkeys(ROLLUP_COUNTS, 0)
        for row in rows:
            if row.conversations:
                per_day.setdefault(row.day, {})[row.channel] = row.conversations
            for name in ROLLUP_COUNTS:
                totals[name] += getattr(row, name)
        count = DailyIntent.conversations
        top = (
            _within(select(DailyIntent.intent, func.sum(count)), DailyIntent.day, since, until)
            .group_by(DailyIntent.intent)
            .having(func.sum(count) > 0)
            .order_by(func.sum(count).desc(), DailyIntent.intent)
            .limit(TOP_INTENTS)
        )
        with console.sessions() as session:
            top_intents = [[intent, int(n)] for intent, n in session.execute(top)]
            first_reply = _first_reply_seconds(session, since, until)
            first_reply_median = _first_reply_median(session, since, until)
            by_reason = _handoffs_by_reason(session, since, until)
        total = totals["conversations"] or 1
        return {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "conversations": totals["conversations"],
            "per_day": per_day,
            "containment": round(1 - totals["handed_off"] / total, 3),
            "handoff_rate": round(totals["handed_off"] / total, 3),
            "fallback_rate": round(totals["fallback"] / total, 3),
            "verified_rate": round(totals["verified"] / total, 3),
            "top_intents": top_intents,
            "first_agent_reply_seconds": first_reply,
            "first_agent_reply_median_seconds": first_reply_median,
            "handoffs_by_reason": by_reason,
            "csat": csat(by_reason),
        }

    @routes.get("/api/metrics.csv", response_class=PlainTextResponse)
    def metrics_csv(
        days: tuple[date | None, date | None] = Depends(day_range), staff: StaffMember = Depends(console.member)
    ) -> Any:
        """The figures per day and channel (counts only: nothing personal)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["giorno", "canale", "conversazioni", "passate_a_operatore", "non_capite", "verificate", "messaggi_cliente"]
        )
        for row in rollups(*days):
            if row.conversations:
                writer.writerow([row.day, row.channel, *(getattr(row, name) for name in ROLLUP_COUNTS)])
        return PlainTextResponse(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="metriche.csv"'},
        )

    @routes.get("/metrics", response_class=HTMLResponse)
    def metrics_page(request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        return TEMPLATES.TemplateResponse("metrics.html", {"request": request, "staff": staff})

    return routes
