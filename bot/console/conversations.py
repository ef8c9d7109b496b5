"""Conversations for review, metrics and retention: their summaries (support database) and
their events (Rasa's SQL tracker store, table `events`).

Rasa writes the tracker store; the console reads it (SQLAlchemy Core, 2.0 style) and, for
retention and erasure only, deletes from it. The summaries are folded event by event by
`bot.support.summaries.fold`: in production the broker consumer feeds them from Rasa's event
broker (`BROKER_FEEDS_SUMMARIES=true`); in the embedded profile this module catches up before
answering, folding only the events added to the tracker store since the last time (a watermark
on the event id, kept in the support database).

The review reads one page at a time (issue 17): keyset paging on (last activity, id), newest
first, every filter answered by an index (docs/console-scale.md), the free text by SQLite FTS5 or
PostgreSQL's Italian full-text search over the masked turns (`bot.support.review_index`).

Over 300 lines: the one reader of Rasa's event table for the console (catch-up, transcripts,
retention), kept together so that its SQL matches one schema.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    inspect,
    literal_column,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql import Select

from bot import db
from bot.masking import mask_text
from bot.settings import Settings
from bot.support.models import (
    ConversationIntent,
    ConversationSummary,
    ConversationTag,
    ConversationText,
    DailyIntent,
    DailyRollup,
    SummaryFeed,
    Ticket,
)
from bot.support.summaries import fold_into

_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
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


def listed(summary: ConversationSummary) -> dict[str, Any]:
    """What the review shows of a conversation (never the customer code or the names)."""
    return {
        "id": summary.conversation_id,
        "started": _iso(summary.started),
        "last": _iso(summary.last),
        "channel": summary.channel,
        "user_turns": summary.user_turns,
        "intents": list(summary.intents),
        "fallback": summary.fallback,
        "low_confidence": summary.low_confidence,
        "handed_off": summary.handed_off,
        "verified": summary.verified,
    }


def _event_of(row: Any) -> dict[str, Any]:
    event = json.loads(row.data or "{}")
    event.setdefault("event", row.type_name)
    event.setdefault("timestamp", row.timestamp)
    return event


@dataclass(frozen=True)
class Filters:
    """The review's filters; `q` is free text (masked before it is searched, like the index)."""

    since: date | None = None
    until: date | None = None
    channel: str | None = None
    intent: str | None = None
    fallback: bool = False
    handed_off: bool = False
    verified: bool = False
    outcome: str | None = None
    tag: str | None = None
    q: str | None = None

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None


Cursor = tuple[float, str]  # (last, conversation_id) of the last row of the previous page
_WORD = re.compile(r"\w+")  # linear: one character class, no nesting
MAX_QUERY_WORDS = 8
WALK_MATCHES = 2000  # matching turns from which SQLite's search walks the page's index (docs/console-scale.md)
COUNT_SAMPLE = 4  # a free-text search is counted among its first COUNT_SAMPLE × the count cap matching turns
TEXT_COUNT_CAP = 1000  # the review counts a free-text search up to this ("more than 1000" beyond)


def query_words(text: str) -> list[str]:
    """The words searched for: those of the masked query (the index holds masked text, so a
    codice fiscale typed in clear finds its masked form), at most MAX_QUERY_WORDS."""
    return _WORD.findall(mask_text(text).lower())[:MAX_QUERY_WORDS]


def _fts_expression(words: list[str]) -> str:
    """FTS5 syntax: every word a quoted string (no operator a customer's words could inject)."""
    return " ".join('"' + w.replace('"', "") + '"' for w in words)


def _fts_rowids(words: list[str]) -> Select:
    return (
        select(literal_column("rowid"))
        .select_from(text("conversation_texts_fts"))
        .where(text("conversation_texts_fts MATCH :fts").bindparams(fts=_fts_expression(words)))
    )


def _matching_texts(dialect: str, words: list[str]) -> Select:
    """The conversation ids of the turns that hold every word, from the full-text index (one per
    matching turn)."""
    if dialect == "postgresql":
        # `words`: the stored Italian tsvector of the text (migration 0011), GIN-indexed
        return select(ConversationText.conversation_id).where(
            literal_column("conversation_texts.words").op("@@")(
                func.plainto_tsquery(literal_column("'italian'"), " ".join(words))
            )
        )
    return select(ConversationText.conversation_id).where(ConversationText.id.in_(_fts_rowids(words)))


def _text_match(dialect: str, words: list[str], walk: bool = False) -> Any:
    """The summaries whose turns hold every word. `walk` (SQLite, a frequent match): probed
    conversation by conversation as the page's index gives them (the matching rows' ids read once
    from FTS5, each conversation's turns found by their index: `id + 0` keeps SQLite from
    looking every matching id up in each conversation), so a page stops after a few hundred
    conversations instead of sorting every match; otherwise every match is collected and sorted,
    which is cheap when they are few. PostgreSQL's planner makes that choice itself."""
    if walk and dialect != "postgresql":
        return exists().where(
            ConversationText.conversation_id == ConversationSummary.conversation_id,
            (ConversationText.id + 0).in_(_fts_rowids(words)),
        )
    return ConversationSummary.conversation_id.in_(_matching_texts(dialect, words))


class ConversationStore:
    def __init__(self, settings: Settings, sessions: sessionmaker) -> None:
        """`sessions`: of the support database, migrated by the caller."""
        self.engine: Engine = db.make_engine(settings.tracker_store_url)
        self.sessions = sessions
        self.broker_feeds = settings.broker_feeds_summaries
        self._catching_up = threading.Lock()

    # ------------------------------------------------------------------ summaries
    def filtered(self, filters: Filters, *columns: Any, walk: bool = False) -> Select:
        """The summaries (or these columns of them) the filters leave, unordered (`walk`: how the
        free text is matched, `_text_match`)."""
        summary = ConversationSummary
        query = select(*columns).select_from(summary) if columns else select(summary)
        if filters.since is not None:
            query = query.where(summary.last >= _day_start(filters.since))
        if filters.until is not None:
            query = query.where(summary.last < _day_start(filters.until + timedelta(days=1)))
        if filters.channel:
            query = query.where(summary.channel == filters.channel)
        # the flags are compared with true, as the partial indexes' conditions are written
        if filters.fallback:
            query = query.where(summary.flagged == true())
        if filters.handed_off:
            query = query.where(summary.handed_off == true())
        if filters.verified:
            query = query.where(summary.verified == true())
        if filters.intent:
            query = query.where(
                exists().where(
                    ConversationIntent.conversation_id == summary.conversation_id,
                    ConversationIntent.intent == filters.intent,
                )
            )
        if filters.tag:
            query = query.where(
                exists().where(
                    ConversationTag.conversation_id == summary.conversation_id, ConversationTag.tag == filters.tag
                )
            )
        if filters.outcome:
            query = query.where(
                exists().where(Ticket.conversation_id == summary.conversation_id, Ticket.outcome == filters.outcome)
            )
        words = query_words(filters.q or "")
        if words:
            query = query.where(_text_match(self._dialect(), words, walk))
        return query

    def _dialect(self) -> str:
        return str(self.sessions.kw["bind"].dialect.name)

    def frequent(self, filters: Filters) -> bool:
        """Whether the free text matches at least WALK_MATCHES turns, in SQLite (FTS5 counts them
        from its index alone, a few milliseconds): then a page walks the date index."""
        words = query_words(filters.q or "")
        if not words or self._dialect() == "postgresql":
            return False
        bounded = _fts_rowids(words).limit(WALK_MATCHES).subquery()
        with self.sessions() as session:
            return int(session.execute(select(func.count()).select_from(bounded)).scalar_one()) >= WALK_MATCHES

    def page_query(
        self, filters: Filters, after: Cursor | None = None, size: int = 50, walk: bool | None = None
    ) -> Select:
        """One page: most recent activity first, after the cursor's row (keyset: the index is read
        from the cursor on, whatever the page's depth)."""
        summary = ConversationSummary
        query = self.filtered(filters, walk=self.frequent(filters) if walk is None else walk)
        if after is not None:
            query = query.where(tuple_(summary.last, summary.conversation_id) < tuple_(*after))
        return query.order_by(summary.last.desc(), summary.conversation_id.desc()).limit(size)

    def page(self, filters: Filters, after: Cursor | None = None, size: int = 50) -> list[ConversationSummary]:
        self._fresh()
        with self.sessions() as session:
            return list(session.execute(self.page_query(filters, after, size)).scalars())

    def count_cap(self, filters: Filters, cap: int) -> int:
        """How far the review counts: `cap`, or TEXT_COUNT_CAP for a free-text search (proving
        "more than 10,000" would read 40,000 matching turns: a few hundred ms in PostgreSQL)."""
        return min(cap, TEXT_COUNT_CAP) if query_words(filters.q or "") else cap

    def count(self, filters: Filters, cap: int) -> int:
        """How many summaries the filters leave, counting no further than `cap` + 1 (an exact
        count of a year's conversations would read them all)."""
        self._fresh()
        words = query_words(filters.q or "")
        sampled = self._sampled_count(filters, words, cap) if words else None
        if sampled is not None:
            return sampled
        bounded = self.filtered(filters, literal_column("1")).limit(cap + 1).subquery()
        with self.sessions() as session:
            return int(session.execute(select(func.count()).select_from(bounded)).scalar_one())

    def _sampled_count(self, filters: Filters, words: list[str], cap: int) -> int | None:
        """A free-text search counted without reading every match: the conversations (with the
        other filters) among its first COUNT_SAMPLE × `cap` (+ 1) matching turns, any of them, in
        one statement (PostgreSQL reads the index's matches once). Exact when no more turns match;
        when more do, a sample with over `cap` conversations proves that the search has more than
        `cap` (all the answer says); None when the sample cannot tell."""
        limit = COUNT_SAMPLE * cap
        sample = _matching_texts(self._dialect(), words).limit(limit + 1).cte("sample")
        found = (
            self.filtered(replace(filters, q=None), literal_column("1"))
            .where(ConversationSummary.conversation_id.in_(select(sample.c.conversation_id)))
            .limit(cap + 1)
            .subquery()
        )
        query = select(
            select(func.count()).select_from(sample).scalar_subquery(),
            select(func.count()).select_from(found).scalar_subquery(),
        )
        with self.sessions() as session:
            matching, counted = session.execute(query).one()
        return int(counted) if matching <= limit or counted > cap else None

    def each(self, filters: Filters, batch: int = 200) -> Iterator[list[ConversationSummary]]:
        """Every summary the filters leave, newest first, in pages (constant memory)."""
        after: Cursor | None = None
        while True:
            rows = self.page(filters, after, batch)
            if rows:
                yield rows
            if len(rows) < batch:
                return
            after = (rows[-1].last, rows[-1].conversation_id)

    def conversations(
        self,
        since: date | None = None,
        until: date | None = None,
        channel: str | None = None,
        fallback: bool = False,
        handed_off: bool = False,
        verified: bool = False,
    ) -> list[ConversationSummary]:
        """Every summary the filters leave, most recent first (tests and small tools; the review
        reads `page`)."""
        filters = Filters(
            since=since, until=until, channel=channel, fallback=fallback, handed_off=handed_off, verified=verified
        )
        return [summary for rows in self.each(filters) for summary in rows]

    def older_than(self, cutoff: datetime, limit: int | None = None) -> list[str]:
        """Ids of conversations without activity since the cutoff, oldest first (at most `limit`)."""
        moment = cutoff.replace(tzinfo=timezone.utc).timestamp() if cutoff.tzinfo is None else cutoff.timestamp()
        self._fresh()
        query = (
            select(ConversationSummary.conversation_id)
            .where(ConversationSummary.last < moment)
            .order_by(ConversationSummary.last)
        )
        if limit is not None:
            query = query.limit(limit)
        with self.sessions() as session:
            return list(session.execute(query).scalars())

    def of_customer(self, customer_code: str) -> list[str]:
        self._fresh()
        query = select(ConversationSummary.conversation_id).where(ConversationSummary.customer_code == customer_code)
        with self.sessions() as session:
            return list(session.execute(query).scalars())

    # ------------------------------------------------------------------ one conversation
    def events(self, sender_id: str) -> list[dict[str, Any]]:
        query = select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        with self.engine.connect() as connection:
            return [json.loads(data or "{}") for data in connection.execute(query).scalars()]

    def last_event_id(self, sender_id: str) -> int:
        """The id of the conversation's latest event (0 if none): what the live view watches."""
        query = select(func.max(EVENTS.c.id)).where(EVENTS.c.sender_id == sender_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def events_of(self, sender_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The events of several conversations, in one query (an export's page)."""
        found: dict[str, list[dict[str, Any]]] = {sender_id: [] for sender_id in sender_ids}
        query = (
            select(EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.sender_id.in_(sender_ids))
            .order_by(EVENTS.c.sender_id, EVENTS.c.id)
        )
        with self.engine.connect() as connection:
            for sender_id, data in connection.execute(query):
                found[sender_id].append(json.loads(data or "{}"))
        return found

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
            session.execute(
                update(SummaryFeed)
                .where(SummaryFeed.source == FEED, SummaryFeed.last_event_id > remaining)
                .values(last_event_id=remaining)
            )
        return erased

    # ------------------------------------------------------------------ embedded feed
    def _fresh(self) -> None:
        if not self.broker_feeds:
            self.catch_up()

    def catch_up_if_embedded(self) -> None:
        """Fold what the tracker store added, unless the broker feeds the summaries."""
        self._fresh()

    def catch_up(self, batch: int = CATCH_UP_BATCH) -> int:
        """Fold the tracker store's events added since the last catch-up; the number folded,
        `batch` events per transaction (a bulk load, such as the console's benchmark, folds
        tens of thousands at a time).
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
                query = (
                    select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
                    .where(EVENTS.c.id > mark)
                    .order_by(EVENTS.c.id)
                    .limit(batch)
                )
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

    def _advance(self, mark: int, to: int, events: list[Any], restart: bool = False) -> None:
        with self.sessions() as session, session.begin():
            moved = session.execute(
                update(SummaryFeed)
                .where(SummaryFeed.source == FEED, SummaryFeed.last_event_id == mark)
                .values(last_event_id=to)
            ).rowcount
            if not moved:
                raise _Overtaken()
            if restart:
                for model in (ConversationSummary, ConversationIntent, ConversationText, DailyRollup, DailyIntent):
                    session.execute(delete(model))
            fold_into(session, events)
