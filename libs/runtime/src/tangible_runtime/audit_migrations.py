"""Migration helpers for the audit log (see `tangible_runtime.audit`): the table, the
trigger function, and `track(table, mask=[...])` for each audited table."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# One row per row changed while an admin request's actor is set; nothing otherwise (a
# consumer's or scheduler's transaction sets empty settings, or none). The arguments are the
# columns to mask. An UPDATE that changed nothing is not recorded. The tenant is the row's,
# or the transaction's for a table without `tenant_id` (row-level security checks it).
_FUNCTION = r"""
CREATE OR REPLACE FUNCTION tangible_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  actor text := current_setting('tangible.actor_id', true);
  old_row jsonb;
  new_row jsonb;
  col text;
BEGIN
  IF actor IS NULL OR actor = '' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' AND old_row = new_row THEN
    RETURN NULL;
  END IF;
  FOR i IN 0 .. TG_NARGS - 1 LOOP
    col := TG_ARGV[i];
    IF old_row ? col AND jsonb_typeof(old_row -> col) <> 'null' THEN
      old_row := jsonb_set(old_row, ARRAY[col], '"***"');
    END IF;
    IF new_row ? col AND jsonb_typeof(new_row -> col) <> 'null' THEN
      new_row := jsonb_set(new_row, ARRAY[col], '"***"');
    END IF;
  END LOOP;
  INSERT INTO audit_log (tenant_id, at, actor_id, actor_name, method, route, table_name,
                         operation, before, after)
  VALUES (
    COALESCE(new_row ->> 'tenant_id', old_row ->> 'tenant_id', current_setting('tangible.tenant', true)),
    COALESCE(NULLIF(current_setting('tangible.audit_at', true), '')::timestamptz, now()),
    actor,
    NULLIF(current_setting('tangible.actor_name', true), ''),
    current_setting('tangible.method', true),
    current_setting('tangible.route', true),
    TG_TABLE_NAME,
    lower(TG_OP),
    old_row,
    new_row
  );
  RETURN NULL;
END
$$
"""


def create_audit_log() -> None:
    """The `audit_log` table (as `tangible_runtime.tables.audit_table`) and the trigger function."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("actor_name", sa.Text),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("table_name", sa.Text),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
    )
    op.create_index("audit_log_by_tenant", "audit_log", ["tenant_id", "id"])
    op.create_index("audit_log_by_tenant_at", "audit_log", ["tenant_id", "at"])
    op.execute(_FUNCTION)


def track(table: str, mask: Sequence[str] = ()) -> None:
    """Record every row `table` gains, changes or loses in an admin request; `mask`: the
    columns whose values the log shows as `***` (secrets, ciphertexts)."""
    for column in (table, *mask):
        if not column.replace("_", "").isalnum():
            raise ValueError(f"not an identifier: {column!r}")
    arguments = ", ".join(f"'{column}'" for column in mask)
    op.execute(
        f'CREATE TRIGGER "{table}_audit" AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION tangible_audit({arguments})"
    )


def untrack(table: str) -> None:
    op.execute(f'DROP TRIGGER IF EXISTS "{table}_audit" ON "{table}"')


def drop_audit_log() -> None:
    op.execute("DROP FUNCTION IF EXISTS tangible_audit() CASCADE")
    op.drop_table("audit_log")
