"""Conversation summaries: one row per conversation of Rasa's tracker store, folded event by event.

`fold` is the one place that says what an event means for the console's review, metrics and
retention. Two feeds call it, with the same JSON: the broker consumer
(`bot.support.broker_consumer`, production) with what Rasa publishes on its event broker, and the
console's catch-up (`bot.console.conversations`, embedded profile) with the rows of the tracker
store's `events` table.

Folding is idempotent and does not depend on the order of the events: a summary is the minimum,
maximum, union or "or" of what its events say, or the value of the latest (first) event that
sets a field, and a user turn is counted once by its key. So an event folded twice — RabbitMQ
redelivers what was not acknowledged, two Rasa replicas publish in their own order, a replay of
the table meets the broker — changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.masking import mask_text
from bot.support.handoff import WAITING_FOR_AGENT
from bot.support.models import ConversationSummary
from bot.support.review_index import IndexWriter

LOW_CONFIDENCE = 0.5
PREVIEW_CHARS = 200

Event = Mapping[str, Any]


def new_summary(conversation_id: str) -> ConversationSummary:
    """The summary of a conversation no event has been folded into yet."""
    return ConversationSummary(
        conversation_id=conversation_id,
        user_turns=0,
        intents=[],
        names=[],
        turn_keys=[],
        fallback=False,
        low_confidence=False,
        handed_off=False,
        verified=False,
        flagged=False,
    )


def turn_key(event: Event) -> str:
    """What identifies a user turn: Rasa's message id and the timestamp (after a two-stage
    fallback Rasa replays a message, same id, new time, and counts it again; an event written by
    another tool may have no id). Nothing of the text goes into it."""
    identity = json.dumps([event.get("message_id"), event.get("timestamp")])
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _first(at: float, known: float | None) -> bool:
    return known is None or at < known


def _latest(at: float, known: float | None) -> bool:
    return known is None or at >= known


def fold(summary: ConversationSummary, event: Event) -> None:
    """Fold one Rasa event (`events.data` of the tracker store, or a broker message without its
    `sender_id`) into its conversation's summary."""
    at = float(event.get("timestamp") or 0)
    summary.started = at if summary.started is None else min(summary.started, at)
    summary.last = at if summary.last is None else max(summary.last, at)
    kind, value = event.get("event"), event.get("value")
    if kind in ("user", "bot") and event.get("text") and _first(at, summary.preview_at):
        # masked before it is cut, so that no personal data survives half-cut
        summary.preview, summary.preview_at = mask_text(event["text"])[:PREVIEW_CHARS], at
    if kind == "user":
        key = turn_key(event)
        if key not in summary.turn_keys:
            summary.turn_keys = sorted([*summary.turn_keys, key])
            summary.user_turns = len(summary.turn_keys)
        if event.get("input_channel") and _latest(at, summary.channel_at):
            summary.channel, summary.channel_at = event["input_channel"], at
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") and intent["name"] not in summary.intents:
            summary.intents = sorted([*summary.intents, intent["name"]])
        # a message to the person the customer is waiting for ("c'è qualcuno?") is not for the
        # assistant: neither a fallback nor a low confidence (issue 14)
        if not (event.get("metadata") or {}).get(WAITING_FOR_AGENT):
            summary.fallback = summary.fallback or intent.get("name") == "nlu_fallback"
            summary.low_confidence = summary.low_confidence or (intent.get("confidence") or 1) < LOW_CONFIDENCE
            summary.flagged = summary.fallback or summary.low_confidence
    elif kind == "pause":
        summary.handed_off = True
    elif kind == "slot" and value:
        name = event.get("name")
        if name == "customer_verified":
            summary.verified = True
        elif name == "customer_code" and _latest(at, summary.customer_code_at):
            summary.customer_code, summary.customer_code_at = str(value), at
        elif name == "customer_name" and str(value) not in summary.names:
            summary.names = sorted([*summary.names, str(value)])


def fold_into(session: Session, events: Iterable[tuple[str, Event]]) -> int:
    """Fold (conversation id, event) pairs into their summaries, in the session's transaction
    (the caller commits), with what the review's indexes and the metrics' rollups need
    (`bot.support.review_index`). The rows are locked for the update where the database can
    (PostgreSQL), so that two feeders do not overwrite each other. Returns the number of events
    folded."""
    events = list(events)
    ids = sorted({conversation_id for conversation_id, _ in events})
    summaries: dict[str, ConversationSummary] = {}
    if ids:
        query = select(ConversationSummary).where(ConversationSummary.conversation_id.in_(ids)).with_for_update()
        summaries = {s.conversation_id: s for s in session.execute(query).scalars()}
    index = IndexWriter()
    for known in summaries.values():
        index.seen(known, known=True)
    for conversation_id, event in events:
        found = summaries.get(conversation_id)
        if found is None:
            found = summaries[conversation_id] = new_summary(conversation_id)
            index.seen(found, known=False)
            session.add(found)
        fold(found, event)
        index.event(found, event)
    index.flush(session, summaries)
    return len(events)
