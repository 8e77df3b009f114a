"""a merge records the rows other than events it moved, so that its undo gives them back

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:15:00

An undo gave the merged client back its identifiers, the events they decide and the rows derived
from those events (by message id). A consent entry with no event behind it (one given on the
privacy dashboard or through the consent API), a recorded digest, a score stayed with the
survivor: after a split the survivor held consent the other person gave. `moved` lists, per
table, the ids of the merged client's rows the merge moved. Merges recorded before have none.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('identity_merges') as batch:
        batch.add_column(sa.Column('moved', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('identity_merges') as batch:
        batch.drop_column('moved')
