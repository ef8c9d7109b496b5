"""Databases of the project's own services: engines from SQLAlchemy URLs, Alembic upgrades.

Each service database (billing, support) has its own models and migrations folder; this
module is the one place that knows how to open and migrate any of them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def _ensure_sqlite_folder(url: str) -> bool:
    """Create the folder of a SQLite file; True if the URL is SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return False
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return True


def use_write_ahead_log(engine: Engine) -> Engine:
    """SQLite in write-ahead-log mode: readers (the console) do not block the writer (Rasa), and
    a commit appends to the log instead of syncing the database file (synchronous=NORMAL: a
    power cut may lose the last commits, never corrupts the file). No-op for other databases."""
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def make_engine(url: str, future: bool = True) -> Engine:
    if _ensure_sqlite_folder(url):
        # Services use the engine from several threads. A SQLite file gets a pool of open
        # connections: SQLAlchemy 1.4's default for files (NullPool) opens and closes the file
        # for every session (2.0 changed that default to this pool).
        pool = {} if make_url(url).database in (None, "", ":memory:") else {"poolclass": QueuePool}
        return use_write_ahead_log(create_engine(url, future=future, connect_args={"check_same_thread": False}, **pool))
    return create_engine(url, future=future, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


# Alembic keeps the running migration's context in module globals: two upgrades at once in one
# process (say, the action server's threads opening the support database for six handoffs at
# the same moment) break each other (KeyError). One at a time.
_upgrading = threading.Lock()


def upgrade(url: str, migrations: Path) -> None:
    """Bring a database to the latest revision of its migrations (creates it on first use)."""
    with _upgrading:
        _upgrade(url, migrations)


def _upgrade(url: str, migrations: Path) -> None:
    # Whatever process migrates (a launcher, the action server on its first ticket), Alembic's
    # INFO lines ("setup plugin" at import, "Context impl") are noise in that service's log: its
    # loggers are quietened before the import, and each one again after it (Rasa and rasa-sdk
    # set a level on every logger that exists).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("alembic.")]:
        logging.getLogger(name).setLevel(logging.WARNING)
    _ensure_sqlite_folder(url)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
