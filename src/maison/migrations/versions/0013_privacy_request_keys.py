"""a write key says whether its events may carry data-subject requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:20:00

`Data Export Requested` and `Data Erasure Requested` events are acted on at once (an export
written, a client erased). A browser's or an app's write key is public (it sits in the page),
so with it anyone could erase any client whose userId they know. Only a key created for the
shop's authenticated back end may now carry them; existing keys may not until an operator says
so (`maison keys create --privacy-requests` for a new key).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('privacy_requests', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('privacy_requests')
