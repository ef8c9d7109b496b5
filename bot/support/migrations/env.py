"""Alembic environment of the support database."""

from bot.migrations_env import run_migrations
from bot.support.models import Base

run_migrations(Base.metadata, version_table="support_alembic_version")
