"""The Alembic migrations create exactly what the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import db
from bot.billing import db as billing_db
from bot.billing.models import Base as BillingBase
from bot.support import db as support_db
from bot.support.models import Base as SupportBase


@pytest.mark.parametrize("migrations, base", [
    (billing_db.MIGRATIONS, BillingBase), (support_db.MIGRATIONS, SupportBase),
], ids=["billing", "support"])
def test_migrations_match_the_models(tmp_path, migrations, base):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db.upgrade(url, migrations)
    engine = db.make_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), base.metadata)
    # Alembic's own version table is not in the models
    # nor SQLite's FTS5 index of the conversation texts (a virtual table and its shadow tables, migration 0008)
    differences = [d for d in differences if not (d[0] == "remove_table" and (
        d[1].name.endswith("alembic_version") or d[1].name.startswith("conversation_texts_fts")))]
    assert differences == []


def test_upgrades_from_several_threads_at_once_all_succeed(tmp_path):
    """The action server opens the support database from worker threads (six handoffs at once):
    Alembic's process-wide context must not be shared by two upgrades."""
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'support.db'}"
    db.upgrade(url, support_db.MIGRATIONS)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: db.upgrade(url, support_db.MIGRATIONS), range(12)))
    assert results == [None] * 12
