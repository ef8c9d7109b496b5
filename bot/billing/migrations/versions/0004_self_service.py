"""self-service (issue 12): meter registers and readings, payments, pagoPA notice codes, complaints

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supplies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registers", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("next_reading_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("annual_consumption", sa.Integer(), nullable=False, server_default="2700"))
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_code", sa.String(length=18), nullable=True))
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supply_id", sa.Integer(), nullable=False),
        sa.Column("read_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("registers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["supply_id"], ["supplies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meter_readings_supply_id", "meter_readings", ["supply_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.String(length=20), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payments_bill_id", "payments", ["bill_id"])
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=20), nullable=False),
        sa.Column("customer_code", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("answer_due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_code"], ["customers.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("protocol"),
    )
    op.create_index("ix_complaints_customer_code", "complaints", ["customer_code"])


def downgrade() -> None:
    op.drop_index("ix_complaints_customer_code", table_name="complaints")
    op.drop_table("complaints")
    op.drop_index("ix_payments_bill_id", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_meter_readings_supply_id", table_name="meter_readings")
    op.drop_table("meter_readings")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_column("notice_code")
    with op.batch_alter_table("supplies", schema=None) as batch_op:
        batch_op.drop_column("annual_consumption")
        batch_op.drop_column("next_reading_date")
        batch_op.drop_column("registers")
