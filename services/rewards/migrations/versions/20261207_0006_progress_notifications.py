"""rewards: every commit that can change an account's progress announces it (NOTIFY).

The API replicas keep rendered progress in memory and LISTEN on `tangible_rewards_progress`
(service_layer/live_view.py): a notification names the accounts whose progress a committed
transaction may have changed, one `tenant<TAB>account` per line (`tenant<TAB>*` for a rule
change, which moves every account of the tenant; `*` alone after a TRUNCATE). Statement-level
triggers with transition tables cover every writer (consumer, API, scheduler, a migration, a
hand-run UPDATE, which announces the rows before and after it) with one notification per
statement and chunk of accounts, and PostgreSQL folds identical notifications of one
transaction into one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "tangible_rewards_progress"
# NOTIFY refuses a payload of 8,000 bytes or more (and fails the statement): accounts are
# announced in chunks under this many bytes (ids are up to 256 characters each)
CHUNK_BYTES = 7_000
# the tables account_progress reads (service_layer/views.py), per account
ACCOUNT_TABLES = (
    "progress",
    "rewards",
    "daily_activity",
    "member_activity",
    "licenses",
    "seats",
    "account_profiles",
)
TENANT_TABLES = ("milestone_rules", "milestones")
# (event, transition tables, function suffix): an UPDATE announces the rows before and after
EVENTS = (
    ("insert", "NEW TABLE AS changed", "rows"),
    ("update", "OLD TABLE AS gone NEW TABLE AS changed", "updated_rows"),
    ("delete", "OLD TABLE AS changed", "rows"),
)


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION announce_progress(keys text[]) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE chunk text := ''; key text;
        BEGIN
            FOREACH key IN ARRAY keys LOOP
                IF chunk <> '' AND octet_length(chunk) + octet_length(key) + 1 > {CHUNK_BYTES} THEN
                    PERFORM pg_notify('{CHANNEL}', chunk);
                    chunk := '';
                END IF;
                chunk := CASE WHEN chunk = '' THEN key ELSE chunk || E'\\n' || key END;
            END LOOP;
            IF chunk <> '' THEN
                PERFORM pg_notify('{CHANNEL}', chunk);
            END IF;
        END $$
        """
    )
    for scope, key in (
        ("accounts", "tenant_id || E'\\t' || account_id"),
        ("tenants", "tenant_id || E'\\t*'"),
    ):
        op.execute(
            f"""
            CREATE FUNCTION announce_progress_of_{scope}_rows() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM announce_progress(ARRAY(SELECT DISTINCT {key} FROM changed));
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"""
            CREATE FUNCTION announce_progress_of_{scope}_updated_rows() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM announce_progress(
                    ARRAY(SELECT {key} FROM changed UNION SELECT {key} FROM gone)
                );
                RETURN NULL;
            END $$
            """
        )
    # TRUNCATE has no transition table: every replica forgets all it keeps ("*")
    op.execute(
        f"""
        CREATE FUNCTION announce_progress_of_everything() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '*');
            RETURN NULL;
        END $$
        """
    )
    for tables, scope in ((ACCOUNT_TABLES, "accounts"), (TENANT_TABLES, "tenants")):
        for table in tables:
            for event, transitions, suffix in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event}_announces_progress AFTER {event.upper()} ON {table} "
                    f"REFERENCING {transitions} FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION announce_progress_of_{scope}_{suffix}()"
                )
            op.execute(
                f"CREATE TRIGGER {table}_truncate_announces_progress AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION announce_progress_of_everything()"
            )


def downgrade() -> None:
    for table in (*ACCOUNT_TABLES, *TENANT_TABLES):
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER {table}_{event}_announces_progress ON {table}")
    for scope in ("accounts", "tenants"):
        op.execute(f"DROP FUNCTION announce_progress_of_{scope}_rows()")
        op.execute(f"DROP FUNCTION announce_progress_of_{scope}_updated_rows()")
    op.execute("DROP FUNCTION announce_progress_of_everything()")
    op.execute("DROP FUNCTION announce_progress(text[])")
