"""an index on products.updated_at, for the catalogue's mark

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:30:00

`segments.repository.catalogue_mark` (the products' count and latest change) is read twice by
every personalised product page. Without an index it scanned the table: 5.1 ms for 10,000
products on PostgreSQL; with it, 1.5 ms (the latest change from the index's end, the count from
an index-only scan).
"""
from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_products_updated_at'), 'products', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_products_updated_at'), table_name='products')
