"""bill details (issue 12, bill copy and explanation): period, consumption, readings, conguaglio

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("period_start", sa.Date()),
    ("period_end", sa.Date()),
    ("consumption", sa.Integer()),
    ("reading_start", sa.Integer()),
    ("reading_end", sa.Integer()),
    ("reading_source", sa.String(length=10)),
    ("adjustment_cents", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("bills", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bills", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
