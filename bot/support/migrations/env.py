"""Alembic environment of the support database."""

from bot.support.models import Base
from bot.migrations_env import run_migrations

run_migrations(Base.metadata, version_table="support_alembic_version")
