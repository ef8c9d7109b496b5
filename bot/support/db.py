"""The support database, chosen by SUPPORT_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from bot import db
from bot.settings import get_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str | None = None) -> Engine:
    return db.make_engine(url or get_settings().support_database_url)


def upgrade_schema(url: str | None = None) -> None:
    db.upgrade(url or get_settings().support_database_url, MIGRATIONS)
