"""Rasa's SQL tracker store, configured by one SQLAlchemy URL.

Rasa's `SQLTrackerStore` takes dialect, host, port and database as separate settings; the
project chooses every database by a URL in an environment variable (`TRACKER_STORE_URL`),
so that switching from the embedded SQLite file to PostgreSQL is one variable.

It keeps the conversations it saved in memory between turns (bot/tracker_cache.py: validated
against the store's rows of the conversation, incremental when another replica wrote meanwhile),
so a turn no longer reads and replays the whole session (issue 15). It also saves with one read
instead of two and publishes to the event broker only what it has
committed, one message per save (`save`); keeps SQLite connections open,
in write-ahead-log mode (bot/db.py); checks PostgreSQL connections before use; and answers the
REST channel's "is this message already here?" with one query (`has_user_message`).
bot/rasa_main.py keeps Rasa from wrapping it in its fail-safe store.
"""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import Integer, bindparam, create_engine, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine
from bot.rasa_compat import require
from bot.settings import get_settings
from bot.tracker_cache import Stamp, TrackerCache

require("rasa", __name__)


_STORED = "_issue15_stored"  # on a tracker this store saved: (stamp after the save, its events then)
RESEND_WINDOW = 50  # user messages of a conversation looked at for a resent message id


def _containing(text: str) -> str:
    """A LIKE pattern (escape character "/") matching any text that contains `text`."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


class UrlSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose connection comes from a SQLAlchemy URL."""

    engine: Engine  # set by Rasa's __init__, replaced in ours

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,  # Rasa passes the endpoint's `url` here; unused
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        parsed = make_url(url or get_settings().tracker_store_url)
        if parsed.drivername.startswith("sqlite") and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database or "rasa.db",
            username=parsed.username,
            password=parsed.password,
            event_broker=event_broker,
            query=dict(parsed.query) or None,
            **kwargs,
        )
        engine_url = self.engine.url
        self.engine.dispose()
        if engine_url.get_backend_name() == "sqlite":
            # Rasa's engine would open and close the file for every query (NullPool)
            self.engine = make_engine(str(engine_url), future=False)
        else:
            # Rasa's pool settings (SQL_POOL_SIZE, SQL_MAX_OVERFLOW), plus a check of each
            # connection before use: after PostgreSQL restarts, the first turn works instead of
            # failing on a connection the server closed.
            self.engine = create_engine(engine_url, pool_pre_ping=True, **create_engine_kwargs(engine_url))
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cache = TrackerCache(get_settings().tracker_cache_size)

    # Rasa sets the domain after creating the store, and again when it loads another model: the
    # cached trackers were built with the old domain's slots.
    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        self._domain = domain or Domain.empty()
        if hasattr(self, "cache"):
            self.cache.clear()

    # The queries run for every message, built once with bound parameters: SQLAlchemy builds a
    # cache key for each statement object it executes, which cost a fresh `select` 0.25 ms
    # against 0.06 ms for a kept one (issue 15).
    @functools.cached_property
    def _stamp_query(self) -> Any:
        event = self.SQLEvent
        return select(func.count(event.id), func.max(event.id)).where(event.sender_id == bindparam("sender_id"))

    @functools.cached_property
    def _last_user_messages_query(self) -> Any:
        event = self.SQLEvent
        last = (
            select(event.data)
            .where(event.sender_id == bindparam("sender_id"), event.type_name == "user")
            .order_by(event.id.desc())
            .limit(bindparam("among_last", type_=Integer))
            .subquery()
        )
        # only the rows whose text holds the id are decoded (usually none: a new message)
        return select(last.c.data).where(last.c.data.like(bindparam("pattern"), escape="/"))

    def _stamp(self, session: Any, sender_id: str) -> Stamp:
        rows, last_id = session.execute(self._stamp_query, {"sender_id": sender_id}).one()
        return Stamp(int(rows), int(last_id or 0))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Rasa's `retrieve` (the latest session), from the cache when it is still valid."""
        entry = self.cache.take(sender_id)
        if entry is None or not self.domain.slots:
            self.cache.misses += 1
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)
            if stamp == entry.stamp:
                self.cache.hits += 1
                return entry.tracker
            newer = []
            if stamp.last_id > entry.stamp.last_id and stamp.rows > entry.stamp.rows:
                newer = session.execute(
                    select(self.SQLEvent.type_name, self.SQLEvent.data)
                    .where(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > entry.stamp.last_id)
                    .order_by(self.SQLEvent.id)
                ).all()
        # another replica's turns, unless they do not add up or start a new session (Rasa's
        # retrieve would then drop the earlier sessions' events): rebuilt as Rasa does
        if (
            not newer
            or entry.stamp.rows + len(newer) != stamp.rows
            or any(row.type_name == SessionStarted.type_name for row in newer)
        ):
            self.cache.misses += 1
            return await super().retrieve(sender_id)
        self.cache.partial += 1
        for event in deserialise_events([json.loads(row.data) for row in newer]):
            entry.tracker.update(event)
        entry.tracker.__dict__[_STORED] = (stamp, len(entry.tracker.events))
        return entry.tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet, then publish the same events.

        Rasa's `save` reads the conversation back twice: once whole, to find what to publish to
        the event broker, once to count what is stored. Rasa saves twice per message, so that was
        four reads per message in production. Here one count decides both; and events reach the
        broker only once committed, so its consumers never see an event the store lacks.
        """
        # a failed save leaves no entry (see bot/tracker_cache.py); a successful one puts the
        # tracker back with the stamp read in the same transaction
        self.cache.discard(tracker.sender_id)
        with self.session_scope() as session:
            before = self._stamp(session, tracker.sender_id)
            known = tracker.__dict__.get(_STORED)
            if known is not None and known[0] == before:
                # the tracker this store saved, and the store unchanged since: its events after
                # the ones saved then are the new ones (Rasa counts the session's rows instead)
                new_events: list[Event] = list(itertools.islice(tracker.events, known[1], None))
            else:
                new_events = list(self._additional_events(session, tracker))
            stored = [event.as_dict() for event in new_events]
            rows = [
                self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )
                for event, data in zip(new_events, stored, strict=True)
            ]
            session.add_all(rows)
            session.flush()
            after = self._stamp(session, tracker.sender_id)
            cacheable = self._cacheable(tracker, new_events, before, after, [row.id for row in rows])
            session.commit()
        if cacheable:
            tracker.__dict__[_STORED] = (after, len(tracker.events))
            self.cache.put(tracker, after)
        else:
            tracker.__dict__.pop(_STORED, None)
        if self.event_broker is None or not new_events:
            return
        if get_settings().broker_message_per_save:
            # one message per save (BROKER_MESSAGE_PER_SAVE): a turn's dozen events cost RabbitMQ
            # and the consumer one message instead of a dozen
            self.event_broker.publish({"sender_id": tracker.sender_id, "events": stored})
        else:  # Rasa's format: one message per event
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    @staticmethod
    def _cacheable(
        tracker: DialogueStateTracker, new_events: list[Event], before: Stamp, after: Stamp, row_ids: list[int]
    ) -> bool:
        # exactly the rows known before plus this save's, none from another writer; and the
        # tracker holds one session only (after a session start Rasa's retrieve drops the
        # earlier sessions' events: the next turn reads the store)
        expected_last = row_ids[-1] if row_ids else before.last_id
        if after != Stamp(before.rows + len(row_ids), expected_last):
            return False
        # a tracker checked at its last save (or read by Rasa's retrieve, which starts at the
        # session start) can only have gained a session start among the new events
        events = tracker.events
        checked = len(events) - len(new_events) if _STORED in tracker.__dict__ else 0
        return not any(isinstance(e, SessionStarted) for e in itertools.islice(events, max(checked, 1), None))

    def has_user_message(self, sender_id: str, message_id: str, among_last: int = RESEND_WINDOW) -> bool:
        """Whether one of the conversation's last `among_last` user messages has this id: one
        query instead of rebuilding the whole conversation (the REST channel asks it for every
        message it receives; a client resends within seconds, so a long conversation's older
        messages need not be read)."""
        parameters = {"sender_id": sender_id, "among_last": among_last, "pattern": _containing(json.dumps(message_id))}
        with self.session_scope() as session:
            rows = session.execute(self._last_user_messages_query, parameters).scalars()
            return any(json.loads(data).get("message_id") == message_id for data in rows)
