"""atomic verification counters per customer and client; idempotency records expire by age

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_counters",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("verification_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_counters_window_start"), ["window_start"], unique=False)
    # Failures in flight when upgrading are forgotten: the window is minutes long.
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_failures_customer_code"))
    op.drop_table("verification_failures")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))
    op.create_table(
        "verification_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_code", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_failures_customer_code"), ["customer_code"], unique=False)
    with op.batch_alter_table("verification_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_counters_window_start"))
    op.drop_table("verification_counters")
