"""self-service (issue 12): SEPA direct debit mandates, paperless billing e-mail

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("paperless", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "direct_debit_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("customer_code", sa.String(length=16), nullable=False),
        sa.Column("active_customer", sa.String(length=16), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("holder_name", sa.String(length=70), nullable=False),
        sa.Column("holder_fiscal_code", sa.String(length=16), nullable=True),
        sa.Column("holder_is_customer", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_code"], ["customers.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.UniqueConstraint("active_customer"),
    )
    op.create_index("ix_direct_debit_mandates_customer_code", "direct_debit_mandates", ["customer_code"])


def downgrade() -> None:
    op.drop_index("ix_direct_debit_mandates_customer_code", table_name="direct_debit_mandates")
    op.drop_table("direct_debit_mandates")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("paperless")
        batch_op.drop_column("email")
