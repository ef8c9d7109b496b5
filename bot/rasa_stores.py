"""Rasa's SQL tracker store, configured by one SQLAlchemy URL.

Rasa's `SQLTrackerStore` takes dialect, host, port and database as separate settings; the
project chooses every database by a URL in an environment variable (`TRACKER_STORE_URL`),
so that switching from the embedded SQLite file to PostgreSQL is one variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from bot.settings import get_settings


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
