"""whatsapp contacts: opaque conversation id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a unique constraint to an existing table otherwise
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(length=80), nullable=True))
        batch.create_unique_constraint("uq_whatsapp_contacts_conversation_id", ["conversation_id"])


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_contacts") as batch:
        batch.drop_constraint("uq_whatsapp_contacts_conversation_id", type_="unique")
        batch.drop_column("conversation_id")
