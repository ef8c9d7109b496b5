"""What the console shows an agent about a WhatsApp conversation: whether the 24-hour window
is open (so whether a reply goes out at once or waits for the customer), the replies waiting,
and Meta's recent errors (codes and titles only)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.support.models import WhatsAppContact, WhatsAppOutbound, WhatsAppProblem

SERVICE_WINDOW = timedelta(hours=24)
RECENT_PROBLEMS = 5


def conversation_status(session: Session, conversation_id: str, now: datetime | None = None) -> dict[str, Any] | None:
    """None for a conversation that is not a WhatsApp one."""
    contact = session.execute(
        select(WhatsAppContact).where(WhatsAppContact.conversation_id == conversation_id)
    ).scalar_one_or_none()
    if contact is None:
        return None
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    closes = contact.last_inbound_at + SERVICE_WINDOW if contact.last_inbound_at else None
    states = dict(
        session.execute(
            select(WhatsAppOutbound.state, func.count())
            .where(
                WhatsAppOutbound.conversation_id == conversation_id, WhatsAppOutbound.state.in_(["pending", "failed"])
            )
            .group_by(WhatsAppOutbound.state)
        ).all()
    )
    problems = session.execute(
        select(WhatsAppProblem)
        .where(WhatsAppProblem.conversation_id == conversation_id)
        .order_by(WhatsAppProblem.id.desc())
        .limit(RECENT_PROBLEMS)
    ).scalars()
    status: dict[str, Any] = {
        "window_open": closes is not None and now < closes,
        "window_closes_at": closes.isoformat() + "Z" if closes else None,
        "pending": int(states.get("pending", 0)),
        "failed": int(states.get("failed", 0)),
        "template_sent": contact.template_sent_at is not None,
        "problems": [
            {"at": p.at.isoformat() + "Z", "source": p.source, "code": p.code, "title": p.title} for p in problems
        ],
    }
    status["line"] = status_line(status)
    return status


def status_line(status: dict[str, Any]) -> str:
    """The same, in one Italian line for the agent."""
    if status["window_open"]:
        parts = ["WhatsApp: finestra di 24 ore aperta, le risposte partono subito"]
    else:
        parts = ["WhatsApp: finestra di 24 ore chiusa, le risposte restano in attesa finché il cliente scrive"]
    if status["pending"]:
        parts.append(f"{status['pending']} in attesa")
    if status["failed"]:
        parts.append(f"{status['failed']} non consegnate")
    parts += [f"errore {p['code']} ({p['title'] or p['source']})" for p in status["problems"][:2]]
    return " · ".join(parts)
