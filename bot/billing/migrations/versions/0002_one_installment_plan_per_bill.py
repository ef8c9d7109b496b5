"""one installment plan per bill

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 03:40:23.776172
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installment_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installment_plans_bill_id"))
        batch_op.create_unique_constraint("uq_installment_plans_bill_id", ["bill_id"])


def downgrade() -> None:
    with op.batch_alter_table("installment_plans", schema=None) as batch_op:
        batch_op.drop_constraint("uq_installment_plans_bill_id", type_="unique")
        batch_op.create_index(batch_op.f("ix_installment_plans_bill_id"), ["bill_id"], unique=False)
