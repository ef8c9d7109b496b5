"""Alembic environment: the billing models' metadata, the URL from the Alembic config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.billing.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, version_table="billing_alembic_version")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    with engine.connect() as connection:
        # batch mode lets SQLite alter tables
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, version_table="billing_alembic_version")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
