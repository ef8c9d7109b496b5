"""Review of past conversations: the filtered list, tags and notes, the exports (supervisors
only, audited, masked) and the learning loop (an agent's correction of an intent, exported as
Rasa NLU training data).

The list is paged by a cursor (issue 17) and reads the summaries and their indexes
(bot/console/conversations.py), the free text included; only the exports read events, a page of
conversations at a time, streamed. Everything kept from an agent's typing (notes, corrections,
the free-text filter in the audit log) is masked.

Over 300 lines: the list's filters and the two streamed exports share one query builder; splitting
them would put the audit of an export away from the query it records.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConstrainedStr
from sqlalchemy import select

from bot.console.auth import StaffMember
from bot.console.conversations import Filters, listed
from bot.console.routes.deps import TEMPLATES, Console
from bot.console.turns import transcript
from bot.masking import mask_text, names_masker
from bot.support.handoff import utcnow
from bot.support.models import AuditEntry, ConversationNote, ConversationSummary, ConversationTag, NluCorrection, Ticket


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


class ShortText(ConstrainedStr):
    """A filter's value: a channel, intent, outcome, tag, or the free text."""

    strip_whitespace = True
    max_length = 200


def review_filters(
    since: date | None = None,
    until: date | None = None,
    channel: ShortText | None = None,
    intent: ShortText | None = None,
    fallback: bool = False,
    handed_off: bool = False,
    verified: bool = False,
    outcome: ShortText | None = None,
    tag: ShortText | None = None,
    q: ShortText | None = None,
) -> Filters:
    return Filters(
        since=since,
        until=until,
        channel=channel or None,
        intent=intent or None,
        fallback=fallback,
        handed_off=handed_off,
        verified=verified,
        outcome=outcome or None,
        tag=tag or None,
        q=q or None,
    )


def encode_cursor(last: float, shown_id: str) -> str:
    """The next page's cursor: the last row's activity time and its shown id (a reference, never
    a personal id), opaque to the browser."""
    return base64.urlsafe_b64encode(json.dumps([last, shown_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        last, shown = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(last, (int, float)) and isinstance(shown, str):
            return float(last), shown
    except (ValueError, TypeError):
        pass
    raise HTTPException(400, "Cursore di paginazione non valido.")


def router(console: Console) -> APIRouter:
    routes = APIRouter()
    sessions, refs, conversations, settings = console.sessions, console.refs, console.conversations, console.settings

    def rows_of(page: list[ConversationSummary]) -> list[dict[str, Any]]:
        """A page as the review lists it, with its outcomes and tags (one query each, for the page)."""
        ids = [c.conversation_id for c in page]
        with sessions() as session:
            outcomes = dict(
                session.execute(
                    select(Ticket.conversation_id, Ticket.outcome).where(
                        Ticket.conversation_id.in_(ids), Ticket.outcome.is_not(None)
                    )
                ).all()
            )
            tagged: dict[str, set[str]] = {}
            for conversation_id, tag in session.execute(
                select(ConversationTag.conversation_id, ConversationTag.tag).where(
                    ConversationTag.conversation_id.in_(ids)
                )
            ):
                tagged.setdefault(conversation_id, set()).add(tag)
        rows = []
        for c in page:
            row = listed(c)
            row["id"] = refs.shown(c.conversation_id)
            row.update(
                outcome=outcomes.get(c.conversation_id),
                tags=sorted(tagged.get(c.conversation_id, ())),
                preview=names_masker(c.names, [c.customer_code] if c.customer_code else [])(c.preview or "")[:120],
            )
            rows.append(row)
        return rows

    def audit_export(staff: StaffMember, kind: str, filters: Filters, rows: int, cap: int) -> None:
        used = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(filters).items() if v}
        # the free-text filter may be a customer's words: masked like everything else kept
        if "q" in used:
            used["q"] = mask_text(used["q"])
        counted: dict[str, Any] = {"rows": rows}
        if rows > cap:
            counted = {"rows_more_than": cap}
        detail = json.dumps({"filters": used, **counted}, ensure_ascii=False)
        with sessions() as session, session.begin():
            session.add(
                AuditEntry(
                    at=utcnow(), actor=staff.username, action=f"export_{kind}", conversation_id=None, detail=detail
                )
            )

    def export_size(staff: StaffMember, kind: str, filters: Filters) -> None:
        """Refuse an undated export beyond the configured size; audit the export before its first
        byte (an export cut short by the client is audited too)."""
        # counted as far as the limit needs (the review's own cap may be lower)
        cap = max(settings.console_count_cap, settings.console_export_max_undated)
        rows = conversations.count(filters, cap)
        if not filters.dated and rows > settings.console_export_max_undated:
            raise HTTPException(
                400,
                f"Per esportare più di {settings.console_export_max_undated} conversazioni indichi un "
                "intervallo di date (dal, al).",
            )
        audit_export(staff, kind, filters, rows, cap)

    def transcripts(filters: Filters) -> Iterator[tuple[str, list[dict[str, Any]], dict[str, Any]]]:
        """(shown id, masked turns, listed row) of every conversation the filters leave, a page
        of summaries and one query of events at a time."""
        for page in conversations.each(filters):
            events = conversations.events_of([c.conversation_id for c in page])
            for row, c in zip(rows_of(page), page, strict=True):
                yield row["id"], transcript(events[c.conversation_id]), row

    # ------------------------------------------------------------------ the list
    @routes.get("/review", response_class=HTMLResponse)
    def review_page(request: Request, staff: StaffMember = Depends(console.member)) -> Any:
        return TEMPLATES.TemplateResponse("review.html", {"request": request, "staff": staff})

    @routes.get("/api/conversations")
    def review(
        filters: Filters = Depends(review_filters),
        after: str | None = Query(None, max_length=600),
        limit: int | None = Query(None, ge=1),
        staff: StaffMember = Depends(console.member),
    ) -> Any:
        """One page, newest activity first; `next` is the cursor of the following page (null on
        the last); `count` is exact up to COUNT_CAP (TEXT_COUNT_CAP for free text), `count_more_than`
        beyond."""
        size = min(limit or settings.console_page_size, settings.console_page_max)
        cursor = None
        if after:
            last, shown = decode_cursor(after)
            cursor = (last, refs.resolve(shown))
        page = conversations.page(filters, cursor, size)
        rows = rows_of(page)
        cap = conversations.count_cap(filters, settings.console_count_cap)
        count = conversations.count(filters, cap) if cursor is None else None
        more = len(page) == size
        return {
            "conversations": rows,
            "next": encode_cursor(page[-1].last, rows[-1]["id"]) if more else None,
            "count": None if count is None or count > cap else count,
            "count_more_than": cap if count and count > cap else None,
        }

    # ------------------------------------------------------------------ exports (supervisors)
    @routes.get("/api/export.jsonl")
    def export_jsonl(
        filters: Filters = Depends(review_filters), staff: StaffMember = Depends(console.supervisor)
    ) -> Any:
        export_size(staff, "jsonl", filters)

        def lines() -> Iterator[str]:
            for _, turns, row in transcripts(filters):
                yield json.dumps({**row, "turns": turns}, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @routes.get("/api/export.csv")
    def export_csv(filters: Filters = Depends(review_filters), staff: StaffMember = Depends(console.supervisor)) -> Any:
        export_size(staff, "csv", filters)

        def lines() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["conversation", "at", "from", "text", "intent", "confidence"])
            for shown, turns, _ in transcripts(filters):
                for turn in turns:
                    if turn["from"] in ("cliente", "assistente", "operatore"):
                        writer.writerow(
                            [
                                shown,
                                turn.get("at"),
                                turn["from"],
                                turn.get("text"),
                                turn.get("intent", ""),
                                turn.get("confidence", ""),
                            ]
                        )
                # one conversation's lines at a time: the buffer never holds more
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()

        return StreamingResponse(lines(), media_type="text/csv")

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
