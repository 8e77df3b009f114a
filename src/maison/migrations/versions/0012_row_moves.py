"""the consent entries an identity merge moves are logged with the clients they moved between

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:30:00

Migration 0009 counts rows moved to another client, so a cache of some clients' consent (who of
a segment's members is pooled) knows the ledger changed. It could not know whose: after any
merge, every cached segment read all its members' ledgers again (251-283 ms for 4,000-4,600
members at 20,000 clients on SQLite). A merge is frequent on a live shop: a visitor who gave
consent on the banner, then signs in, is an anonymous client merged into a known one.

The trigger that counts the ledger's moved entries now also logs them in `row_moves`: from which
client to which, how many, and the count once they are counted (`position`). The moves between
two marks of the ledger are then the rows whose position lies between the marks' counts, and
their sum must be the difference (else an erasure removed some, and every ledger is read again).
On PostgreSQL the count's row is locked by each mover until it commits, so positions follow the
order of commits, and a snapshot that saw a count saw every move up to it. The events' moves are
still only counted: nothing asks whose events moved.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_SQLITE_COUNT = ("INSERT INTO deleted_rows (table_name, count) VALUES ('consent_ledger:moved', 1) "
                 "ON CONFLICT (table_name) DO UPDATE SET count = count + 1;")


def upgrade() -> None:
    op.create_table(
        'row_moves',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True, autoincrement=True),
        sa.Column('table_name', sa.String(40), nullable=False),
        sa.Column('from_client_id', sa.String(40), nullable=False),
        sa.Column('to_client_id', sa.String(40), nullable=False),
        sa.Column('rows', sa.BigInteger(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_row_moves'),
    )
    op.create_index('ix_row_moves_position', 'row_moves', ['table_name', 'position'])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER consent_ledger_moved_rows")
        op.execute(
            "CREATE TRIGGER consent_ledger_moved_rows AFTER UPDATE OF client_id ON consent_ledger "
            f"WHEN OLD.client_id IS NOT NEW.client_id BEGIN {_SQLITE_COUNT} "
            "INSERT INTO row_moves (table_name, from_client_id, to_client_id, rows, position) "
            "SELECT 'consent_ledger', OLD.client_id, NEW.client_id, 1, count FROM deleted_rows "
            "WHERE table_name = 'consent_ledger:moved'; END"
        )
        return
    op.execute(
        "CREATE FUNCTION maison_log_moved() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE counted bigint; BEGIN "
        "INSERT INTO deleted_rows (table_name, count) SELECT TG_TABLE_NAME || '\\:moved', count(*) "
        "FROM old_rows JOIN new_rows USING (id) WHERE old_rows.client_id IS DISTINCT FROM new_rows.client_id "
        "HAVING count(*) > 0 "
        "ON CONFLICT (table_name) DO UPDATE SET count = deleted_rows.count + EXCLUDED.count "
        "RETURNING count INTO counted; "
        "IF counted IS NOT NULL THEN "
        "INSERT INTO row_moves (table_name, from_client_id, to_client_id, rows, position) "
        "SELECT TG_TABLE_NAME, o.client_id, n.client_id, count(*), counted "
        "FROM old_rows o JOIN new_rows n USING (id) WHERE o.client_id IS DISTINCT FROM n.client_id "
        "GROUP BY o.client_id, n.client_id; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute("DROP TRIGGER consent_ledger_moved_rows ON consent_ledger")
    op.execute(
        "CREATE TRIGGER consent_ledger_moved_rows AFTER UPDATE ON consent_ledger "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION maison_log_moved()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER consent_ledger_moved_rows")
        op.execute(
            "CREATE TRIGGER consent_ledger_moved_rows AFTER UPDATE OF client_id ON consent_ledger "
            f"WHEN OLD.client_id IS NOT NEW.client_id BEGIN {_SQLITE_COUNT} END"
        )
    else:
        op.execute("DROP TRIGGER consent_ledger_moved_rows ON consent_ledger")
        op.execute(
            "CREATE TRIGGER consent_ledger_moved_rows AFTER UPDATE ON consent_ledger "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION maison_count_moved()"
        )
        op.execute("DROP FUNCTION IF EXISTS maison_log_moved()")
    op.drop_index('ix_row_moves_position', table_name='row_moves')
    op.drop_table('row_moves')
