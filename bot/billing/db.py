"""Engine and sessions of the billing database, chosen by BILLING_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import get_settings


def _ensure_sqlite_folder(url: str) -> bool:
    """Create the folder of a SQLite file; True if the URL is SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return False
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def make_engine(url: Optional[str] = None) -> Engine:
    url = url or get_settings().billing_database_url
    if _ensure_sqlite_folder(url):
        # the API serves requests from a thread pool
        return create_engine(url, future=True, connect_args={"check_same_thread": False})
    return create_engine(url, future=True, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def upgrade_schema(url: Optional[str] = None) -> None:
    """Bring the database to the latest Alembic revision (creates it on first use)."""
    from alembic import command
    from alembic.config import Config

    url = url or get_settings().billing_database_url
    _ensure_sqlite_folder(url)
    config = Config(str(Path(__file__).with_name("alembic.ini")))
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


def sessions(factory: sessionmaker) -> Iterator[Session]:
    with factory() as session:
        yield session
