"""segment models kept between processes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maison.core.types import UTCDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'segment_models',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('as_of', UTCDateTime(), nullable=False),
        sa.Column('mark', sa.JSON(), nullable=False),
        sa.Column('model_version', sa.String(length=80), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('stored_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_segment_models_as_of', 'segment_models', ['as_of'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_segment_models_as_of', table_name='segment_models')
    op.drop_table('segment_models')
