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

import csv
import io
import json
from datetime import timedelta
from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, constr

from bot.console import auth
from bot.console.conversations import listed
from bot.console.headers import install_security_headers
from bot.console.routes import access, conversation, queue
from bot.console.routes.deps import TEMPLATES, Console, NotLoggedIn
from bot.console.turns import agent_turn, agent_turn_of, transcript
from bot.masking import mask_text, names_masker
from bot.settings import Settings
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, ConversationNote, ConversationSummary, ConversationTag, NluCorrection, Ticket
from sqlalchemy import select

# what bot.web.app and the tests import from here
__all__ = ["NotLoggedIn", "agent_turn", "agent_turn_of", "build_router", "install_security_headers", "transcript"]

class TagBody(BaseModel):
    tag: constr(strip_whitespace=True, min_length=1, max_length=40)


class NoteBody(BaseModel):
    text: constr(strip_whitespace=True, min_length=1, max_length=2000)


class CorrectionBody(BaseModel):
    text: constr(strip_whitespace=True, min_length=1, max_length=1000)
    intent: constr(regex=r"^[a-z_]{2,60}$")


class UnlockBody(BaseModel):
    username: constr(strip_whitespace=True, min_length=1, max_length=80)


def build_router(settings: Settings) -> APIRouter:
    console = Console.build(settings)
    sessions, throttle, refs = console.sessions, console.throttle, console.refs
    router = APIRouter(prefix="/console")
    member, member_with_csrf = console.member, console.member_with_csrf
    supervisor, supervisor_with_csrf = console.supervisor, console.supervisor_with_csrf

    router.include_router(access.router(console))
    router.include_router(queue.router(console))
    router.include_router(conversation.router(console))


    # ------------------------------------------------------------------ review
    conversations = console.conversations
    summary_filters = ("since", "until", "channel", "fallback", "handed_off", "verified")

    def review_rows(filters: Dict[str, Any]) -> List[Dict[str, Any]]:
        with sessions() as session:
            tickets = session.execute(select(Ticket)).scalars().all()
            tags = session.execute(select(ConversationTag)).scalars().all()
        outcomes: Dict[str, str] = {t.conversation_id: t.outcome for t in tickets if t.outcome}
        tagged: Dict[str, set] = {}
        for tag in tags:
            tagged.setdefault(tag.conversation_id, set()).add(tag.tag)
        rows = []
        for c in conversations.conversations(**{k: filters[k] for k in summary_filters}):
            outcome, tags_of_c = outcomes.get(c.conversation_id), tagged.get(c.conversation_id, set())
            if not matches(c, filters, outcome, tags_of_c):
                continue
            row = listed(c)
            row["id"] = refs.shown(c.conversation_id)
            row.update(outcome=outcome, tags=sorted(tags_of_c), preview=names_masker(c.names)(c.preview or "")[:120])
            rows.append(row)
        return rows

    def matches(c: ConversationSummary, f: Dict[str, Any], outcome: Optional[str], tags: set) -> bool:
        """The filters the summaries' query does not apply; the free text last, as it reads the
        conversation's events."""
        return ((not f.get("intent") or f["intent"] in c.intents)
                and (not f.get("outcome") or outcome == f["outcome"])
                and (not f.get("tag") or f["tag"] in tags)
                and (not f.get("q") or any(f["q"].lower() in t.lower()
                                           for t in conversations.texts(c.conversation_id))))

    def review_filters(since: Optional[date] = None, until: Optional[date] = None, channel: Optional[str] = None,
                       intent: Optional[str] = None, fallback: bool = False, handed_off: bool = False,
                       verified: bool = False, outcome: Optional[str] = None, tag: Optional[str] = None,
                       q: Optional[str] = None) -> Dict[str, Any]:
        return dict(since=since, until=until, channel=channel, intent=intent, fallback=fallback,
                    handed_off=handed_off, verified=verified, outcome=outcome, tag=tag, q=q)

    @router.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, staff: auth.StaffMember = Depends(member)) -> Any:
        return TEMPLATES.TemplateResponse("review.html", {"request": request, "staff": staff})

    @router.get("/api/conversations")
    def review(filters: Dict[str, Any] = Depends(review_filters), staff: auth.StaffMember = Depends(member)) -> Any:
        return {"conversations": review_rows(filters)}

    def audit_export(staff: auth.StaffMember, kind: str, filters: Dict[str, Any], rows: int) -> None:
        used = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v}
        # the free-text filter may be a customer's words: masked like everything else kept
        if "q" in used:
            used["q"] = mask_text(used["q"])
        with sessions() as session, session.begin():
            session.add(AuditEntry(at=utcnow(), actor=staff.username, action=f"export_{kind}", conversation_id=None,
                                   detail=json.dumps({"filters": used, "rows": rows}, ensure_ascii=False)))

    @router.get("/api/export.jsonl", response_class=PlainTextResponse)
    def export_jsonl(filters: Dict[str, Any] = Depends(review_filters),
                     staff: auth.StaffMember = Depends(supervisor)) -> Any:
        rows = review_rows(filters)
        lines = [json.dumps({**row, "turns": transcript(conversations.events(refs.resolve(row["id"])))},
                            ensure_ascii=False) for row in rows]
        audit_export(staff, "jsonl", filters, len(rows))
        return PlainTextResponse("\n".join(lines) + "\n", media_type="application/x-ndjson")

    @router.get("/api/export.csv", response_class=PlainTextResponse)
    def export_csv(filters: Dict[str, Any] = Depends(review_filters), staff: auth.StaffMember = Depends(supervisor)) -> Any:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["conversation", "at", "from", "text", "intent", "confidence"])
        rows = review_rows(filters)
        for row in rows:
            for turn in transcript(conversations.events(refs.resolve(row["id"]))):
                if turn["from"] in ("cliente", "assistente", "operatore"):
                    writer.writerow([row["id"], turn.get("at"), turn["from"], turn.get("text"),
                                     turn.get("intent", ""), turn.get("confidence", "")])
        audit_export(staff, "csv", filters, len(rows))
        return PlainTextResponse(out.getvalue(), media_type="text/csv")

    @router.get("/api/conversations/{shown_id}/annotations")
    def annotations(shown_id: str, staff: auth.StaffMember = Depends(member)) -> Any:
        conversation_id = refs.resolve(shown_id)
        with sessions() as session:
            tags = session.execute(select(ConversationTag).where(ConversationTag.conversation_id == conversation_id)).scalars()
            notes = session.execute(select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)).scalars()
            return {"tags": sorted({t.tag for t in tags}),
                    "notes": [{"text": n.text, "author": n.author, "at": n.at.isoformat()} for n in notes]}

    @router.post("/api/conversations/{shown_id}/tags")
    def add_tag(shown_id: str, body: TagBody, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        with sessions() as session, session.begin():
            session.add(ConversationTag(conversation_id=conversation_id, tag=body.tag, author=staff.username, at=utcnow()))
        return {"status": "tagged"}

    @router.post("/api/conversations/{shown_id}/notes")
    def add_note(shown_id: str, body: NoteBody, staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        with sessions() as session, session.begin():
            session.add(ConversationNote(conversation_id=conversation_id, text=mask_text(body.text),
                                         author=staff.username, at=utcnow()))
        return {"status": "noted"}

    @router.post("/api/corrections")
    def correct(body: CorrectionBody, conversation_id: str = Query(..., max_length=255),
                staff: auth.StaffMember = Depends(member_with_csrf)) -> Any:
        conversation_id = refs.resolve(conversation_id)
        with sessions() as session, session.begin():
            session.add(NluCorrection(conversation_id=conversation_id, text=mask_text(body.text), intent=body.intent,
                                      author=staff.username, at=utcnow()))
        return {"status": "recorded"}

    @router.get("/api/corrections.yml", response_class=PlainTextResponse)
    def corrections_yaml(staff: auth.StaffMember = Depends(member)) -> Any:
        """The marked messages as Rasa NLU training data, ready for data/nlu/."""
        by_intent: Dict[str, List[str]] = {}
        with sessions() as session:
            for correction in session.execute(select(NluCorrection).order_by(NluCorrection.id)).scalars():
                by_intent.setdefault(correction.intent, []).append(" ".join(correction.text.split()))
        lines = ['version: "3.1"', "nlu:"]
        for intent, texts in sorted(by_intent.items()):
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {t}" for t in dict.fromkeys(texts)]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="application/x-yaml")

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
