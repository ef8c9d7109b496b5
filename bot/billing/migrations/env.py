"""Alembic environment of the billing database."""

from bot.billing.models import Base
from bot.migrations_env import run_migrations

run_migrations(Base.metadata, version_table="billing_alembic_version")
