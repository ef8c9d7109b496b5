"""the review's free text at a million conversations (issue 17), PostgreSQL: each turn's Italian
tsvector stored (a generated column) and indexed, instead of an index on the expression

A frequent word is found by walking the date index and probing each conversation's turns; with the
expression index every probe computed `to_tsvector` again for every turn (0.12 ms a conversation,
most of a page's time). The stored vector is written by PostgreSQL itself with each row the fold
inserts: nothing changes in the fold. SQLite (FTS5) is unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:00:00.000000
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE conversation_texts ADD COLUMN words tsvector "
        "GENERATED ALWAYS AS (to_tsvector('italian', text)) STORED"
    )
    op.execute("CREATE INDEX ix_conversation_texts_words ON conversation_texts USING gin (words)")
    op.execute("DROP INDEX IF EXISTS ix_conversation_texts_italian")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_conversation_texts_italian ON conversation_texts USING gin (to_tsvector('italian', text))"
    )
    op.execute("DROP INDEX IF EXISTS ix_conversation_texts_words")
    op.execute("ALTER TABLE conversation_texts DROP COLUMN words")
