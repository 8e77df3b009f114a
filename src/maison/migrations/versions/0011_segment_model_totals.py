"""a kept segment model keeps the tables' marks its data mark was read with

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:50:00

`segments.data_mark` counts the events and ledger entries before the model's instant once per
process (162 ms at 3.3 million events on SQLite, 478 ms on PostgreSQL), then only the rows added
since. A server restart and every run of the weekly job (a new process each quarter hour) paid
that count again. With the tables' marks stored beside the kept model, a new process starts from
them: when nothing changed it counts nothing, otherwise only the rows added since.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('segment_models') as batch:
        batch.add_column(sa.Column('totals', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('segment_models') as batch:
        batch.drop_column('totals')
