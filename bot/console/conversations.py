"""Conversations for review, metrics and retention: their summaries (support database) and, one
conversation at a time, their events (Rasa's SQL tracker store, table `events`).

Rasa writes the tracker store; the console reads it (SQLAlchemy Core, 2.0 style) and, for
retention and erasure only, deletes from it. The summaries are folded event by event by
`bot.support.summaries.fold`: in production the broker consumer feeds them from Rasa's event
broker (`BROKER_FEEDS_SUMMARIES=true`); in the embedded profile this module catches up before
answering, folding only the events added to the tracker store since the last time (a watermark
on the event id, kept in the support database).
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot import db
from bot.settings import Settings
from bot.support.models import ConversationSummary, SummaryFeed
from bot.support.summaries import fold_into

_metadata = MetaData()
EVENTS = Table(
    "events", _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
FEED = "tracker_events"  # the row of summary_feed created by migration 0004
CATCH_UP_BATCH = 500


class _Overtaken(Exception):
    """Another process folded the same events first."""


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def _day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


def listed(summary: ConversationSummary) -> Dict[str, Any]:
    """What the review shows of a conversation (never the customer code or the names)."""
    return {
        "id": summary.conversation_id, "started": _iso(summary.started), "last": _iso(summary.last),
        "channel": summary.channel, "user_turns": summary.user_turns, "intents": list(summary.intents),
        "fallback": summary.fallback, "low_confidence": summary.low_confidence,
        "handed_off": summary.handed_off, "verified": summary.verified,
    }


def _event_of(row: Any) -> Dict[str, Any]:
    event = json.loads(row.data or "{}")
    event.setdefault("event", row.type_name)
    event.setdefault("timestamp", row.timestamp)
    return event


class ConversationStore:
    def __init__(self, settings: Settings, sessions: sessionmaker) -> None:
        """`sessions`: of the support database, migrated by the caller."""
        self.engine: Engine = db.make_engine(settings.tracker_store_url)
        self.sessions = sessions
        self.broker_feeds = settings.broker_feeds_summaries
        self._catching_up = threading.Lock()

    # ------------------------------------------------------------------ summaries
    def conversations(self, since: Optional[date] = None, until: Optional[date] = None,
                      channel: Optional[str] = None, fallback: bool = False, handed_off: bool = False,
                      verified: bool = False) -> List[ConversationSummary]:
        """Summaries, most recent first; `since` and `until` are days (UTC) of the last message."""
        self._fresh()
        summary = ConversationSummary
        query = select(summary).order_by(summary.last.desc())
        if since is not None:
            query = query.where(summary.last >= _day_start(since))
        if until is not None:
            query = query.where(summary.last < _day_start(until + timedelta(days=1)))
        if channel:
            query = query.where(summary.channel == channel)
        if fallback:
            query = query.where(summary.fallback | summary.low_confidence)
        if handed_off:
            query = query.where(summary.handed_off)
        if verified:
            query = query.where(summary.verified)
        with self.sessions() as session:
            return session.execute(query).scalars().all()

    def older_than(self, cutoff: datetime) -> List[str]:
        limit = cutoff.replace(tzinfo=timezone.utc).timestamp() if cutoff.tzinfo is None else cutoff.timestamp()
        return self._ids(ConversationSummary.last < limit)

    def of_customer(self, customer_code: str) -> List[str]:
        return self._ids(ConversationSummary.customer_code == customer_code)

    def _ids(self, condition: Any) -> List[str]:
        self._fresh()
        with self.sessions() as session:
            return list(session.execute(select(ConversationSummary.conversation_id).where(condition)).scalars())

    # ------------------------------------------------------------------ one conversation
    def events(self, sender_id: str) -> List[Dict[str, Any]]:
        query = select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        with self.engine.connect() as connection:
            return [json.loads(data or "{}") for data in connection.execute(query).scalars()]

    def texts(self, sender_id: str) -> List[str]:
        """What the customer and the bot wrote, in clear (for searching, never for showing)."""
        return [e.get("text") or "" for e in self.events(sender_id) if e.get("event") in ("user", "bot")]

    def erase(self, sender_ids: Iterable[str]) -> int:
        """Delete these conversations' events (their summaries go with the support database's rows)."""
        ids = list(sender_ids)
        if not ids:
            return 0
        with self.engine.begin() as connection:
            erased = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))).rowcount
            remaining = connection.execute(select(func.max(EVENTS.c.id))).scalar() or 0
        # SQLite gives a new row the highest id + 1, so ids of erased events come back: the
        # watermark goes down to what remains, or the new events would never be folded.
        with self.sessions() as session, session.begin():
            session.execute(update(SummaryFeed).where(SummaryFeed.source == FEED, SummaryFeed.last_event_id > remaining)
                            .values(last_event_id=remaining))
        return erased

    # ------------------------------------------------------------------ embedded feed
    def _fresh(self) -> None:
        if not self.broker_feeds:
            self.catch_up()

    def catch_up(self) -> int:
        """Fold the tracker store's events added since the last catch-up; the number folded.
        Safe with several readers: the watermark only moves from the value read, and an event
        folded twice changes nothing. It relies on events being committed in the order of their
        ids, as they are with SQLite and one Rasa process; several Rasa processes writing one
        tracker store need the broker feed."""
        if not inspect(self.engine).has_table("events"):
            return 0  # Rasa has not stored anything yet
        folded = 0
        with self._catching_up:
            while True:
                with self.sessions() as session:
                    mark = session.get(SummaryFeed, FEED).last_event_id
                query = select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data) \
                    .where(EVENTS.c.id > mark).order_by(EVENTS.c.id).limit(CATCH_UP_BATCH)
                with self.engine.connect() as connection:
                    rows = connection.execute(query).all()
                    newest = connection.execute(select(func.max(EVENTS.c.id))).scalar() or 0
                try:
                    if rows:
                        self._advance(mark, rows[-1].id, [(row.sender_id, _event_of(row)) for row in rows])
                        folded += len(rows)
                    elif newest < mark:
                        # a new tracker store (the old file deleted, say): fold it from the start
                        self._advance(mark, 0, [], restart=True)
                    else:
                        return folded
                except _Overtaken:
                    continue

    def _advance(self, mark: int, to: int, events: List[Any], restart: bool = False) -> None:
        with self.sessions() as session, session.begin():
            moved = session.execute(update(SummaryFeed).where(SummaryFeed.source == FEED,
                                                              SummaryFeed.last_event_id == mark)
                                    .values(last_event_id=to)).rowcount
            if not moved:
                raise _Overtaken()
            if restart:
                session.execute(delete(ConversationSummary))
            fold_into(session, events)
