"""canned replies of the agent desk (issue 14): managed by supervisors, used by agents, with
variables filled from the verified customer's data; a few seeded

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:10:00.000000
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEED = [
    (
        "Presentazione",
        "Gentile {nome}, sono {operatore} del servizio clienti. Ho letto la Sua richiesta: "
        "me ne occupo io da qui in avanti.",
    ),
    (
        "Verifica in corso",
        "La ringrazio per l'attesa: sto verificando la Sua posizione, mi conceda qualche minuto.",
    ),
    (
        "Bolletta aperta",
        "Risulta aperta la bolletta {fornitura} di {importo}, con scadenza {scadenza}. "
        "Può pagarla dall'home banking con CBILL o pagoPA, in tabaccheria o in ricevitoria; se preferisce, "
        "Le indico le altre modalità.",
    ),
    (
        "Rateizzazione",
        "Per la bolletta di {importo} con scadenza {scadenza} posso verificare con Lei una "
        "rateizzazione: in quante rate preferirebbe pagarla?",
    ),
    (
        "Chiusura",
        "Posso esserLe utile in altro, {nome}? Se non ha altre domande chiudo la conversazione. "
        "La ringrazio e Le auguro una buona giornata.",
    ),
]


def upgrade() -> None:
    replies = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("title", name="uq_canned_replies_title"),
    )
    now = dt.datetime(2026, 12, 6, 1, 10)
    op.bulk_insert(replies, [{"title": t, "body": b, "created_by": "sistema", "created_at": now} for t, b in SEED])


def downgrade() -> None:
    op.drop_table("canned_replies")
