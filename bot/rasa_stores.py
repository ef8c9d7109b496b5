"""Rasa's SQL tracker store, configured by one SQLAlchemy URL.

Rasa's `SQLTrackerStore` takes dialect, host, port and database as separate settings; the
project chooses every database by a URL in an environment variable (`TRACKER_STORE_URL`),
so that switching from the embedded SQLite file to PostgreSQL is one variable.

It also saves with one read instead of two and publishes to the event broker only what it has
committed, one message per save (`save`); keeps SQLite connections open,
in write-ahead-log mode (bot/db.py); checks PostgreSQL connections before use; and answers the
REST channel's "is this message already here?" with one query (`has_user_message`).
bot/rasa_main.py keeps Rasa from wrapping it in its fail-safe store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine
from bot.rasa_compat import require
from bot.settings import get_settings

require("rasa", __name__)


RESEND_WINDOW = 50  # user messages of a conversation looked at for a resent message id


class UrlSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose connection comes from a SQLAlchemy URL."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,  # Rasa passes the endpoint's `url` here; unused
        event_broker: Optional[EventBroker] = None,
        url: Optional[str] = None,
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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet, then publish the same events.

        Rasa's `save` reads the conversation back twice: once whole, to find what to publish to
        the event broker, once to count what is stored. Rasa saves twice per message, so that was
        four reads per message in production. Here one count decides both; and events reach the
        broker only once committed, so its consumers never see an event the store lacks.
        """
        with self.session_scope() as session:
            new_events: List[Event] = list(self._additional_events(session, tracker))
            stored = [event.as_dict() for event in new_events]
            for event, data in zip(new_events, stored):
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=(data.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            session.commit()
        if self.event_broker is None or not new_events:
            return
        if get_settings().broker_message_per_save:
            # one message per save (BROKER_MESSAGE_PER_SAVE): a turn's dozen events cost RabbitMQ
            # and the consumer one message instead of a dozen
            self.event_broker.publish({"sender_id": tracker.sender_id, "events": stored})
        else:  # Rasa's format: one message per event
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def has_user_message(self, sender_id: str, message_id: str, among_last: int = RESEND_WINDOW) -> bool:
        """Whether one of the conversation's last `among_last` user messages has this id: one
        query instead of rebuilding the whole conversation (the REST channel asks it for every
        message it receives; a client resends within seconds, so a long conversation's older
        messages need not be read)."""
        with self.session_scope() as session:
            rows = session.execute(
                select(self.SQLEvent.data)
                .where(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == "user")
                .order_by(self.SQLEvent.id.desc()).limit(among_last)
            ).scalars()
            return any(json.loads(data).get("message_id") == message_id for data in rows)
