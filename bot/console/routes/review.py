"""Review of past conversations: the filtered list, tags and notes, the exports (supervisors
only, audited, masked) and the learning loop (an agent's correction of an intent, exported as
Rasa NLU training data).

The list reads the summaries table (bot/console/conversations.py); only the free-text filter,
the exports and the corrections' conversation read a conversation's events. Everything kept
from an agent's typing (notes, corrections, the free-text filter in the audit log) is masked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConstrainedStr
from sqlalchemy import select

from bot.console.auth import StaffMember
from bot.console.conversations import listed
from bot.console.routes.deps import TEMPLATES, Console
from bot.console.turns import transcript
from bot.masking import mask_text, names_masker
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, ConversationNote, ConversationSummary, ConversationTag, NluCorrection, Ticket

SUMMARY_FILTERS = ("since", "until", "channel", "fallback", "handed_off", "verified")  # applied in SQL


class Tag(ConstrainedStr):
    strip_whitespace = True
    min_length = 1
    max_length = 40


class NoteText(ConstrainedStr):
    strip_whitespace = True
    min_length = 1
    max_length = 2000


class CorrectedText(ConstrainedStr):
    strip_whitespace = True
    min_length = 1
    max_length = 1000


class IntentName(ConstrainedStr):
    regex = re.compile(r"^[a-z_]{2,60}$")


class TagBody(BaseModel):
    tag: Tag


class NoteBody(BaseModel):
    text: NoteText


class CorrectionBody(BaseModel):
    text: CorrectedText
    intent: IntentName


def review_filters(
    since: date | None = None,
    until: date | None = None,
    channel: str | None = None,
    intent: str | None = None,
    fallback: bool = False,
    handed_off: bool = False,
    verified: bool = False,
    outcome: str | None = None,
    tag: str | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    return {
        "since": since,
        "until": until,
        "channel": channel,
        "intent": intent,
        "fallback": fallback,
        "handed_off": handed_off,
        "verified": verified,
        "outcome": outcome,
        "tag": tag,
        "q": q,
    }


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    sessions, refs, conversations = console.sessions, console.refs, console.conversations

    def review_rows(filters: dict[str, Any]) -> list[dict[str, Any]]:
        with sessions() as session:
            tickets = session.execute(select(Ticket)).scalars().all()
            tags = session.execute(select(ConversationTag)).scalars().all()
        outcomes: dict[str, str] = {t.conversation_id: t.outcome for t in tickets if t.outcome}
        tagged: dict[str, set[str]] = {}
        for tag in tags:
            tagged.setdefault(tag.conversation_id, set()).add(tag.tag)
        rows = []
        for c in conversations.conversations(**{k: filters[k] for k in SUMMARY_FILTERS}):
            outcome, tags_of_c = outcomes.get(c.conversation_id), tagged.get(c.conversation_id, set())
            if not matches(c, filters, outcome, tags_of_c):
                continue
            row = listed(c)
            row["id"] = refs.shown(c.conversation_id)
            row.update(outcome=outcome, tags=sorted(tags_of_c), preview=names_masker(c.names)(c.preview or "")[:120])
            rows.append(row)
        return rows

    def matches(c: ConversationSummary, f: dict[str, Any], outcome: str | None, tags: set[str]) -> bool:
        """The filters the summaries' query does not apply; the free text last, as it reads the
        conversation's events."""
        return (
            (not f.get("intent") or f["intent"] in c.intents)
            and (not f.get("outcome") or outcome == f["outcome"])
            and (not f.get("tag") or f["tag"] in tags)
            and (not f.get("q") or any(f["q"].lower() in t.lower() for t in conversations.texts(c.conversation_id)))
        )

    def audit_export(staff: StaffMember, kind: str, filters: dict[str, Any], rows: int) -> None:
        used = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items() if v}
        # the free-text filter may be a customer's words: masked like everything else kept
        if "q" in used:
            used["q"] = mask_text(used["q"])
        detail = json.dumps({"filters": used, "rows": rows}, ensure_ascii=False)
        with sessions() as session, session.begin():
            session.add(
                AuditEntry(
                    at=utcnow(), actor=staff.username, action=f"export_{kind}", conversation_id=None, detail=detail
                )
            )

    # ------------------------------------------------------------------ the list
    @routes.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        return TEMPLATES.TemplateResponse("review.html", {"request": request, "staff": staff})

    @routes.get("/api/conversations")
    def review(filters: dict[str, Any] = Depends(review_filters), staff: StaffMember = Depends(console.member)) -> Any:
        return {"conversations": review_rows(filters)}

    # ------------------------------------------------------------------ exports (supervisors)
    @routes.get("/api/export.jsonl", response_class=PlainTextResponse)
    def export_jsonl(
        filters: dict[str, Any] = Depends(review_filters), staff: StaffMember = Depends(console.supervisor)
    ) -> Any:
        rows = review_rows(filters)
        lines = [
            json.dumps({**row, "turns": transcript(conversations.events(refs.resolve(row["id"])))}, ensure_ascii=False)
            for row in rows
        ]
        audit_export(staff, "jsonl", filters, len(rows))
        return PlainTextResponse("\n".join(lines) + "\n", media_type="application/x-ndjson")

    @routes.get("/api/export.csv", response_class=PlainTextResponse)
    def export_csv(
        filters: dict[str, Any] = Depends(review_filters), staff: StaffMember = Depends(console.supervisor)
    ) -> Any:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["conversation", "at", "from", "text", "intent", "confidence"])
        rows = review_rows(filters)
        for row in rows:
            for turn in transcript(conversations.events(refs.resolve(row["id"]))):
                if turn["from"] in ("cliente", "assistente", "operatore"):
                    writer.writerow(
                        [
                            row["id"],
                            turn.get("at"),
                            turn["from"],
                            turn.get("text"),
                            turn.get("intent", ""),
                            turn.get("confidence", ""),
                        ]
                    )
        audit_export(staff, "csv", filters, len(rows))
        return PlainTextResponse(out.getvalue(), media_type="text/csv")

    # ------------------------------------------------------------------ tags and notes
    @routes.get("/api/conversations/{shown_id}/annotations")
    def annotations(shown_id: str, staff: StaffMember = Depends(console.member)) -> Any:
        conversation_id = refs.resolve(shown_id)
        with sessions() as session:
            tags = session.execute(select(ConversationTag).where(ConversationTag.conversation_id == conversation_id))
            notes = session.execute(select(ConversationNote).where(ConversationNote.conversation_id == conversation_id))
            return {
                "tags": sorted({t.tag for t in tags.scalars()}),
                "notes": [{"text": n.text, "author": n.author, "at": n.at.isoformat()} for n in notes.scalars()],
            }

    @routes.post("/api/conversations/{shown_id}/tags")
    def add_tag(shown_id: str, body: TagBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        with sessions() as session, session.begin():
            session.add(
                ConversationTag(conversation_id=conversation_id, tag=body.tag, author=staff.username, at=utcnow())
            )
        return {"status": "tagged"}

    @routes.post("/api/conversations/{shown_id}/notes")
    def add_note(shown_id: str, body: NoteBody, staff: StaffMember = Depends(console.member_with_csrf)) -> Any:
        conversation_id = refs.resolve(shown_id)
        note = ConversationNote(
            conversation_id=conversation_id, text=mask_text(body.text), author=staff.username, at=utcnow()
        )
        with sessions() as session, session.begin():
            session.add(note)
        return {"status": "noted"}

    # ------------------------------------------------------------------ learning loop
    @routes.post("/api/corrections")
    def correct(
        body: CorrectionBody,
        conversation_id: str = Query(..., max_length=255),
        staff: StaffMember = Depends(console.member_with_csrf),
    ) -> Any:
        conversation_id = refs.resolve(conversation_id)
        correction = NluCorrection(
            conversation_id=conversation_id,
            text=mask_text(body.text),
            intent=body.intent,
            author=staff.username,
            at=utcnow(),
        )
        with sessions() as session, session.begin():
            session.add(correction)
        return {"status": "recorded"}

    @routes.get("/api/corrections.yml", response_class=PlainTextResponse)
    def corrections_yaml(staff: StaffMember = Depends(console.member)) -> Any:
        """The marked messages as Rasa NLU training data, ready for data/nlu/."""
        by_intent: dict[str, list[str]] = {}
        with sessions() as session:
            for correction in session.execute(select(NluCorrection).order_by(NluCorrection.id)).scalars():
                by_intent.setdefault(correction.intent, []).append(" ".join(correction.text.split()))
        lines = ['version: "3.1"', "nlu:"]
        for intent, texts in sorted(by_intent.items()):
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {t}" for t in dict.fromkeys(texts)]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="application/x-yaml")

    return routes
