"""the ledger's index leads with the purpose: a statement's latest entry is one index probe

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:20:00

The consent gate asks, for every event it stores, the latest statement of the event's purpose
for its client at the event's instant (`consent.repository.latest_statements`). On
(client_id, effective_at) PostgreSQL answered each probe with a bitmap scan of the client's
whole ledger, a filter on the purpose and a sort (about 5 µs, costed at 60: a 2,000-event
import chunk's statement was then costed over `jit_above_cost`). On (client_id, purpose,
effective_at, id) each is a backward index scan stopped at its first row (about 3 µs, costed
at 8), in the order the query asks (instant, then id). The old index is dropped, not kept
beside it: every other read of the ledger names the client (served by the same leading
column) and sorts a client's few entries itself, and each ledger row keeps one index to
maintain. The bench's import into PostgreSQL: 3.16-3.29 s against 3.27-3.35 s.
"""
from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_consent_ledger_client', table_name='consent_ledger')
    op.create_index('ix_consent_ledger_statement', 'consent_ledger', ['client_id', 'purpose', 'effective_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_consent_ledger_statement', table_name='consent_ledger')
    op.create_index('ix_consent_ledger_client', 'consent_ledger', ['client_id', 'effective_at'], unique=False)
