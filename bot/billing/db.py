"""The billing database, chosen by BILLING_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot import db
from bot.db import session_factory  # noqa: F401  (the billing code's one import for sessions)
from bot.settings import get_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str | None = None) -> Engine:
    return db.make_engine(url or get_settings().billing_database_url)


def upgrade_schema(url: str | None = None) -> None:
    """Bring the billing database to the latest Alembic revision."""
    db.upgrade(url or get_settings().billing_database_url, MIGRATIONS)
