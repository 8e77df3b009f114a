"""deletions counted on SQLite, for cheap marks of events and the consent ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:45:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COUNTED = ("events", "consent_ledger")


def upgrade() -> None:
    op.create_table(
        'deleted_rows',
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_deleted_rows')),
    )
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's marks count rows (`core.marks`)
    for table in COUNTED:
        # An upsert, so that a store emptied row by row still counts.
        op.execute(
            f"CREATE TRIGGER {table}_deleted_rows AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO deleted_rows (table_name, count) VALUES ('{table}', 1) "
            "ON CONFLICT (table_name) DO UPDATE SET count = count + 1; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in COUNTED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_deleted_rows")
    op.drop_table('deleted_rows')
