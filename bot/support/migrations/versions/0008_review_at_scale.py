"""review at scale (issue 17): keyset indexes for every filter, intents and texts for indexed
search (SQLite FTS5, PostgreSQL Italian full text), daily rollups for the metrics

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000
"""

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SUMMARIES = "conversation_summaries"
FLAGS = ("handed_off", "verified", "flagged")


def _flag_where(flag: str) -> dict:
    return {"sqlite_where": sa.text(f"{flag} = 1"), "postgresql_where": sa.text(flag)}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table(SUMMARIES) as batch:
        batch.add_column(sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.drop_index("ix_conversation_summaries_last")
    op.execute(sa.text("UPDATE conversation_summaries SET flagged = (fallback OR low_confidence)"))
    op.create_index("ix_summaries_last_id", SUMMARIES, ["last", "conversation_id"])
    op.create_index("ix_summaries_channel_last_id", SUMMARIES, ["channel", "last", "conversation_id"])
    for flag in FLAGS:
        op.create_index(f"ix_summaries_{flag}_last_id", SUMMARIES, ["last", "conversation_id"], **_flag_where(flag))
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag", "conversation_id"])
    op.create_index("ix_tickets_outcome", "tickets", ["outcome", "conversation_id"])

    intents = op.create_table(
        "conversation_intents",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "intent"),
    )
    op.create_index("ix_conversation_intents_intent", "conversation_intents", ["intent", "conversation_id"])
    op.create_table(
        "conversation_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("turn", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("turn"),
    )
    op.create_index("ix_conversation_texts_conversation_id", "conversation_texts", ["conversation_id"])
    if bind.dialect.name == "sqlite":
        # external-content FTS5: the words only, the rows stay in conversation_texts; the
        # triggers keep the two together on every insert and delete (purge, erasure)
        op.execute(
            "CREATE VIRTUAL TABLE conversation_texts_fts USING fts5(text, content='conversation_texts', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER conversation_texts_ai AFTER INSERT ON conversation_texts BEGIN "
            "INSERT INTO conversation_texts_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER conversation_texts_ad AFTER DELETE ON conversation_texts BEGIN "
            "INSERT INTO conversation_texts_fts(conversation_texts_fts, rowid, text) "
            "VALUES ('delete', old.id, old.text); END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_conversation_texts_italian ON conversation_texts USING gin (to_tsvector('italian', text))"
        )
    rollups = op.create_table(
        "daily_rollups",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("handed_off", sa.Integer(), nullable=False),
        sa.Column("fallback", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Integer(), nullable=False),
        sa.Column("user_turns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel"),
    )
    day_intents = op.create_table(
        "daily_intents",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "intent"),
    )
    _backfill(bind, intents, rollups, day_intents)
    # the embedded catch-up folds the tracker store again from the start (folding is idempotent),
    # which fills the text index for the conversations already kept
    op.execute(sa.text("UPDATE summary_feed SET last_event_id = 0"))


def _backfill(bind, intents, rollups, day_intents) -> None:
    """Intents and rollups of the summaries already kept, as the fold would have written them."""
    rows = bind.execute(
        sa.text(
            "SELECT conversation_id, started, channel, intents, handed_off, fallback, "
            "low_confidence, verified, user_turns FROM conversation_summaries"
        )
    )
    per_day: dict = {}
    per_intent: dict = {}
    links = []
    for row in rows:
        names = row.intents if isinstance(row.intents, list) else json.loads(row.intents or "[]")
        day = dt.datetime.fromtimestamp(row.started, tz=dt.timezone.utc).date().isoformat()
        counts = per_day.setdefault((day, row.channel or "?"), [0, 0, 0, 0, 0])
        for i, value in enumerate((1, row.handed_off, row.fallback or row.low_confidence, row.verified)):
            counts[i] += int(bool(value))
        counts[4] += row.user_turns
        for name in names:
            links.append({"conversation_id": row.conversation_id, "intent": name})
            if name != "nlu_fallback":
                per_intent[(day, name)] = per_intent.get((day, name), 0) + 1
    if links:
        op.bulk_insert(intents, links)
    if per_day:
        op.bulk_insert(
            rollups,
            [
                {
                    "day": d,
                    "channel": c,
                    "conversations": n[0],
                    "handed_off": n[1],
                    "fallback": n[2],
                    "verified": n[3],
                    "user_turns": n[4],
                }
                for (d, c), n in per_day.items()
            ],
        )
    if per_intent:
        op.bulk_insert(day_intents, [{"day": d, "intent": i, "conversations": n} for (d, i), n in per_intent.items()])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS conversation_texts_ai")
        op.execute("DROP TRIGGER IF EXISTS conversation_texts_ad")
        op.execute("DROP TABLE IF EXISTS conversation_texts_fts")
    op.drop_table("daily_intents")
    op.drop_table("daily_rollups")
    op.drop_table("conversation_texts")
    op.drop_table("conversation_intents")
    op.drop_index("ix_tickets_outcome", table_name="tickets")
    op.drop_index("ix_conversation_tags_tag", table_name="conversation_tags")
    for flag in FLAGS:
        op.drop_index(f"ix_summaries_{flag}_last_id", table_name=SUMMARIES)
    op.drop_index("ix_summaries_channel_last_id", table_name=SUMMARIES)
    op.drop_index("ix_summaries_last_id", table_name=SUMMARIES)
    with op.batch_alter_table(SUMMARIES) as batch:
        batch.create_index("ix_conversation_summaries_last", ["last"])
        batch.drop_column("flagged")
