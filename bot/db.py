"""Databases of the project's own services: engines from SQLAlchemy URLs, Alembic upgrades.

Each service database (billing, support) has its own models and migrations folder; this
module is the one place that knows how to open and migrate any of them.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def _ensure_sqlite_folder(url: str) -> bool:
    """Create the folder of a SQLite file; True if the URL is SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return False
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def make_engine(url: str) -> Engine:
    if _ensure_sqlite_folder(url):
        # services use the engine from several threads
        return create_engine(url, future=True, connect_args={"check_same_thread": False})
    return create_engine(url, future=True, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


def upgrade(url: str, migrations: Path) -> None:
    """Bring a database to the latest revision of its migrations (creates it on first use)."""
    from alembic import command
    from alembic.config import Config

    _ensure_sqlite_folder(url)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
