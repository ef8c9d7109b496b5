"""whatsapp: pending and sent messages, Meta's errors, the contact's business number and template

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.add_column(sa.Column("phone_number_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("template_sent_at", sa.DateTime(), nullable=True))
    op.create_table(
        "whatsapp_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=80), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("wamid", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_whatsapp_outbound_conversation_id", "whatsapp_outbound", ["conversation_id"])
    op.create_index("ix_whatsapp_outbound_state", "whatsapp_outbound", ["state"])
    op.create_index("ix_whatsapp_outbound_wamid", "whatsapp_outbound", ["wamid"])
    op.create_table(
        "whatsapp_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(length=80), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("subcode", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("fbtrace_id", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_whatsapp_problems_conversation_id", "whatsapp_problems", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_whatsapp_problems_conversation_id", table_name="whatsapp_problems")
    op.drop_table("whatsapp_problems")
    op.drop_index("ix_whatsapp_outbound_wamid", table_name="whatsapp_outbound")
    op.drop_index("ix_whatsapp_outbound_state", table_name="whatsapp_outbound")
    op.drop_index("ix_whatsapp_outbound_conversation_id", table_name="whatsapp_outbound")
    op.drop_table("whatsapp_outbound")
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.drop_column("template_sent_at")
        batch.drop_column("phone_number_id")
