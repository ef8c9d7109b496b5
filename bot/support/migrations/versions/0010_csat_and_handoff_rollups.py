"""closing with a satisfaction rating (issue 14): the rating on the ticket, and a daily rollup
of handoffs by reason with their ratings (the metrics' CSAT and handoffs by reason), filled
once from the tickets already there

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 01:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("csat_asked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("csat_rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("csat_at", sa.DateTime(), nullable=True))
    op.create_index("ix_tickets_conversation_csat", "tickets", ["conversation_id", "csat_asked_at"])
    op.create_table(
        "daily_handoffs",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("reason", sa.String(40), primary_key=True),
        sa.Column("handoffs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("satisfied", sa.Integer(), nullable=False, server_default="0"),
    )
    # the tickets opened before this revision, counted once (they have no rating yet)
    tickets = sa.table("tickets", sa.column("created_at", sa.DateTime()), sa.column("reason", sa.String()))
    if op.get_bind().dialect.name == "postgresql":
        day = sa.func.to_char(tickets.c.created_at, "YYYY-MM-DD")
    else:
        day = sa.func.date(tickets.c.created_at)
    counted = sa.select(day, tickets.c.reason, sa.func.count(), sa.literal(0), sa.literal(0)).group_by(
        day, tickets.c.reason
    )
    rollup = sa.table(
        "daily_handoffs", *(sa.column(name) for name in ("day", "reason", "handoffs", "rated", "satisfied"))
    )
    op.execute(rollup.insert().from_select(["day", "reason", "handoffs", "rated", "satisfied"], counted))


def downgrade() -> None:
    op.drop_table("daily_handoffs")
    op.drop_index("ix_tickets_conversation_csat", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("csat_at")
        batch.drop_column("csat_rating")
        batch.drop_column("csat_asked_at")
