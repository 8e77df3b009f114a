"""drop the events indexes on user_id and anonymous_id

No query filters events by userId or anonymousId: identity works on the identities table and
events are read by client. Each index cost every stored event an index insertion (two of the
seven per event), on the hottest write path.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 19:05:00
"""
from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_user')
        batch_op.drop_index('ix_events_anon')


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_anon', ['anonymous_id'], unique=False)
        batch_op.create_index('ix_events_user', ['user_id'], unique=False)
