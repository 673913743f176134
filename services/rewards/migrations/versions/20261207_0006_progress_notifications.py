"""rewards: every commit that can change an account's progress announces it (NOTIFY).

The API replicas keep rendered progress in memory and LISTEN on `tangible_rewards_progress`
(service_layer/live_view.py): a notification names the accounts whose progress a committed
transaction may have changed, one `tenant<TAB>account` per line (`tenant<TAB>*` for a rule
change, which moves every account of the tenant). Statement-level triggers with transition
tables cover every writer (consumer, API, scheduler, a migration, a hand-run UPDATE) with
one notification per statement and chunk of accounts, and PostgreSQL folds identical
notifications of one transaction into one.

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
# NOTIFY payloads stop at 8,000 bytes: accounts are announced in chunks well under it
CHUNK = 100
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
EVENTS = (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD"))


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION announce_progress_of_accounts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE chunk text;
        BEGIN
            FOR chunk IN
                SELECT string_agg(key, E'\\n') FROM (
                    SELECT key, (row_number() OVER ()) / {CHUNK} AS n
                    FROM (SELECT DISTINCT tenant_id || E'\\t' || account_id AS key FROM changed) d
                ) c GROUP BY n
            LOOP
                PERFORM pg_notify('{CHANNEL}', chunk);
            END LOOP;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION announce_progress_of_tenants() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE tenant text;
        BEGIN
            FOR tenant IN SELECT DISTINCT tenant_id FROM changed LOOP
                PERFORM pg_notify('{CHANNEL}', tenant || E'\\t*');
            END LOOP;
            RETURN NULL;
        END $$
        """
    )
    for tables, function in ((ACCOUNT_TABLES, "accounts"), (TENANT_TABLES, "tenants")):
        for table in tables:
            for event, transition in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event}_announces_progress AFTER {event.upper()} ON {table} "
                    f"REFERENCING {transition} TABLE AS changed FOR EACH STATEMENT "
                    f"EXECUTE FUNCTION announce_progress_of_{function}()"
                )


def downgrade() -> None:
    for table in (*ACCOUNT_TABLES, *TENANT_TABLES):
        for event, _ in EVENTS:
            op.execute(f"DROP TRIGGER {table}_{event}_announces_progress ON {table}")
    op.execute("DROP FUNCTION announce_progress_of_accounts()")
    op.execute("DROP FUNCTION announce_progress_of_tenants()")
