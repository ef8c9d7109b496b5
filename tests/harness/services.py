"""Access to the machine's services (PostgreSQL, Redis, ...) for the tests that need them.

Under CI=true a missing service fails the test; elsewhere it skips with a clear message.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.settings import get_settings


def service_missing(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " — CI must have it")
    pytest.skip(message)


@contextmanager
def temporary_postgres_database(template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database on the machine's server (a copy of the database `template`,
    if given: nobody may be connected to it); its URL; dropped afterwards."""
    admin_url = get_settings().test_postgres_url
    name = f"test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        # pre-ping: PostgreSQL may have restarted before the database is dropped (tests/prod)
        admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except Exception as error:  # noqa: BLE001 - any failure means: no usable server
        service_missing(f"PostgreSQL at {make_url(admin_url).render_as_string(hide_password=True)}", error)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
