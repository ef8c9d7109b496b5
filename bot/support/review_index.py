"""What the fold writes besides the summaries (issue 17), in the same transaction: the intents of
each conversation (the review's intent filter), the masked text of every customer, bot and agent
turn (the free-text search: SQLite FTS5 or PostgreSQL full text over `conversation_texts`) and
the daily rollups the metrics read.

Everything here is idempotent, like the fold: a text is stored once per turn key, an intent once
per conversation, and a rollup moves by the difference between a summary's contribution before
and after the events were folded, which is zero when an event is folded again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.masking import names_masker
from bot.support.models import ConversationIntent, ConversationSummary, ConversationText, DailyIntent, DailyRollup

NOT_COUNTED_INTENTS = frozenset({"nlu_fallback"})  # a fallback is its own figure, not a top intent
ROLLUP_COUNTS = ("conversations", "handed_off", "fallback", "verified", "user_turns")


@dataclass(frozen=True)
class Contribution:
    """What one summary adds to the rollups."""

    day: str
    channel: str
    counts: tuple[int, ...]  # in the order of ROLLUP_COUNTS
    intents: frozenset[str]


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).date().isoformat()


def contribution(summary: ConversationSummary | None) -> Contribution | None:
    if summary is None or summary.started is None:
        return None
    flagged = bool(summary.fallback or summary.low_confidence)
    counts = (1, int(bool(summary.handed_off)), int(flagged), int(bool(summary.verified)), summary.user_turns or 0)
    return Contribution(day_of(summary.started), summary.channel or "?", counts, frozenset(summary.intents or ()))


def text_of(event: Mapping[str, Any]) -> str | None:
    """The words of a customer's, the bot's or an agent's turn (in clear: masked by the caller)."""
    kind = event.get("event")
    if kind == "user":
        return event.get("text") or None
    if kind == "bot":
        agent = ((event.get("data") or {}).get("custom") or {}).get("data") or {}
        if agent.get("sender") == "agent":
            return agent.get("text") or None
        return event.get("text") or None
    return None


def text_key(conversation_id: str, event: Mapping[str, Any]) -> str:
    """One turn: its conversation, kind, message id and time (never its words)."""
    identity = json.dumps([conversation_id, event.get("event"), event.get("message_id"), event.get("timestamp")])
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def dialect_insert(session: Session, model: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT clauses (PostgreSQL or SQLite)."""
    return (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


class IndexWriter:
    """Collects one batch's texts and summary changes, and writes them with `flush`."""

    def __init__(self) -> None:
        self.before: dict[str, Contribution | None] = {}
        self.texts: dict[str, dict[str, Any]] = {}

    def seen(self, summary: ConversationSummary, known: bool) -> None:
        """Call once per summary before folding into it (`known`: it was in the database)."""
        if summary.conversation_id not in self.before:
            self.before[summary.conversation_id] = contribution(summary) if known else None

    def event(self, summary: ConversationSummary, event: Mapping[str, Any]) -> None:
        words = text_of(event)
        if not words:
            return
        key = text_key(summary.conversation_id, event)
        self.texts[key] = {
            "turn": key,
            "conversation_id": summary.conversation_id,
            "at": float(event.get("timestamp") or 0),
            # masked with the names the conversation has given so far (bot.masking)
            "text": names_masker(summary.names or [], [summary.customer_code] if summary.customer_code else [])(words),
        }

    def flush(self, session: Session, summaries: Mapping[str, ConversationSummary]) -> None:
        """Write the batch: each statement executed once for many rows (executemany: compiled
        once and cached, whatever the batch's size)."""
        if self.texts:
            session.execute(
                dialect_insert(session, ConversationText).on_conflict_do_nothing(index_elements=["turn"]),
                list(self.texts.values()),
            )
        rollups: dict[tuple[str, str], list[int]] = {}
        day_intents: Counter[tuple[str, str]] = Counter()
        links = []
        for conversation_id, old in self.before.items():
            new = contribution(summaries[conversation_id])
            if new == old:
                continue
            for sign, part in ((-1, old), (1, new)):
                if part is None:
                    continue
                counts = rollups.setdefault((part.day, part.channel), [0] * len(ROLLUP_COUNTS))
                for i, value in enumerate(part.counts):
                    counts[i] += sign * value
                for intent in part.intents - NOT_COUNTED_INTENTS:
                    day_intents[(part.day, intent)] += sign
            added = (new.intents if new else frozenset()) - (old.intents if old else frozenset())
            links += [{"conversation_id": conversation_id, "intent": intent} for intent in sorted(added)]
        if links:
            session.execute(dialect_insert(session, ConversationIntent).on_conflict_do_nothing(), links)
        changed = [
            {"day": day, "channel": channel, **dict(zip(ROLLUP_COUNTS, counts, strict=True))}
            for (day, channel), counts in sorted(rollups.items())
            if any(counts)
        ]
        if changed:
            insert = dialect_insert(session, DailyRollup)
            table = DailyRollup.__table__.c
            upsert = insert.on_conflict_do_update(
                index_elements=["day", "channel"],
                set_={name: table[name] + insert.excluded[name] for name in ROLLUP_COUNTS},
            )
            session.execute(upsert, changed)
        intents = [
            {"day": day, "intent": intent, "conversations": n} for (day, intent), n in sorted(day_intents.items()) if n
        ]
        if intents:
            insert = dialect_insert(session, DailyIntent)
            upsert = insert.on_conflict_do_update(
                index_elements=["day", "intent"],
                set_={"conversations": DailyIntent.__table__.c.conversations + insert.excluded.conversations},
            )
            session.execute(upsert, intents)
