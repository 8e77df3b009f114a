"""rows moved to another client are counted, for the marks (identity merges and their undo)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00

An identity merge moves the merged client's events and consent entries onto the survivor, and
its undo moves them back: an UPDATE of `client_id`, which neither a largest id (SQLite) nor a
transaction stamp (PostgreSQL) notices. A cache of some clients' consent (who of a segment's
members is pooled) then kept the ledger as it was before the move, and could go on treating a
client as pooled under consent entries that had moved to another client. Moved rows are now
counted in `deleted_rows`, under `<table>:moved` beside the table's deletions: a whole-table mark
holds both counts, so a cache keyed by it reads again, while a count of the rows before an
instant (which a move does not change) goes on from the rows added since.
"""
from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COUNTED = ("events", "consent_ledger")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in COUNTED:
            op.execute(
                f"CREATE TRIGGER {table}_moved_rows AFTER UPDATE OF client_id ON {table} "
                "WHEN OLD.client_id IS NOT NEW.client_id BEGIN "
                f"INSERT INTO deleted_rows (table_name, count) VALUES ('{table}:moved', 1) "
                "ON CONFLICT (table_name) DO UPDATE SET count = count + 1; END"
            )
        return
    # A statement-level trigger with transition tables may not name columns: it sees every UPDATE
    # and counts the rows whose client changed.
    op.execute(
        "CREATE FUNCTION maison_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO deleted_rows (table_name, count) SELECT TG_TABLE_NAME || '\\:moved', count(*) "
        "FROM old_rows JOIN new_rows USING (id) WHERE old_rows.client_id IS DISTINCT FROM new_rows.client_id "
        "HAVING count(*) > 0 "
        "ON CONFLICT (table_name) DO UPDATE SET count = deleted_rows.count + EXCLUDED.count; "
        "RETURN NULL; END $$"
    )
    for table in COUNTED:
        op.execute(
            f"CREATE TRIGGER {table}_moved_rows AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION maison_count_moved()"
        )


def downgrade() -> None:
    for table in COUNTED:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_moved_rows")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_moved_rows ON {table}")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS maison_count_moved()")
