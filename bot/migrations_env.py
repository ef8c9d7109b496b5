"""The Alembic environment shared by the service databases: each migrations/env.py calls
`run_migrations` with its models' metadata and its own version table (so two services may
share one PostgreSQL database)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, create_engine


def run_migrations(metadata: MetaData, version_table: str) -> None:
    config = context.config
    options = {"target_metadata": metadata, "render_as_batch": True, "version_table": version_table}
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
    with engine.connect() as connection:
        # batch mode lets SQLite alter tables
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
