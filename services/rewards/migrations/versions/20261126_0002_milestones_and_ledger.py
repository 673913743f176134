"""rewards: rule heads and versions, evaluation state, licenses and seats, the credit ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
MONEY = sa.Numeric(20, 2)


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=nullable, server_default=None if nullable else NOW
    )


def upgrade() -> None:
    _rules()
    _state()
    _ledger()
    _ledger_triggers()


def _rules() -> None:
    op.create_table(
        "milestones",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.add_column("milestone_rules", sa.Column("repeat", sa.Text, nullable=False, server_default="once"))
    op.add_column("milestone_rules", sa.Column("repeat_period", sa.Text))
    op.add_column("milestone_rules", sa.Column("series", sa.Text))
    op.add_column("milestone_rules", sa.Column("actor", sa.Text, nullable=False, server_default="system"))
    op.execute("UPDATE milestone_rules SET series = id")
    op.alter_column("milestone_rules", "series", nullable=False)
    op.execute(
        """
        INSERT INTO milestones (tenant_id, key, latest_version, enabled)
        SELECT DISTINCT ON (tenant_id, key) tenant_id, key, version, enabled
        FROM milestone_rules ORDER BY tenant_id, key, version DESC
        """
    )
    op.drop_column("milestone_rules", "enabled")

    op.alter_column("progress", "rule_id", new_column_name="series")
    # counts of usage quantities (floats on the wire): float8 encodes far cheaper than numeric
    op.alter_column("progress", "value", type_=sa.Float, postgresql_using="value::double precision")
    op.add_column("progress", sa.Column("alive_until", sa.Date))

    op.add_column("rewards", sa.Column("rule_key", sa.Text))
    op.add_column("rewards", sa.Column("reward_period", sa.Text))
    op.add_column("rewards", sa.Column("name", sa.Text))
    op.add_column("rewards", sa.Column("credits", MONEY))
    op.add_column("rewards", sa.Column("status", sa.Text, nullable=False, server_default="granted"))
    op.add_column("rewards", _ts("voided_at", nullable=True))
    op.execute(
        """
        UPDATE rewards r SET rule_key = m.key, name = m.name, reward_period = r.period_key,
               credits = CAST(r.reward->>'credits' AS numeric)
        FROM milestone_rules m WHERE m.id = r.rule_id
        """
    )
    op.alter_column("rewards", "rule_key", nullable=False)
    op.alter_column("rewards", "reward_period", nullable=False)
    op.drop_constraint("rewards_tenant_id_account_id_rule_id_period_key_key", "rewards", type_="unique")
    op.create_unique_constraint(
        "rewards_once_per_period", "rewards", ["tenant_id", "account_id", "rule_key", "reward_period"]
    )
    op.create_index("rewards_by_account", "rewards", ["tenant_id", "account_id", "granted_at"])


def _state() -> None:
    op.create_table(
        "account_profiles",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("time_zone", sa.Text, nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "daily_activity",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("activity_key", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("quantity", sa.Float, nullable=False),
    )
    op.create_table(
        "member_activity",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("activity_key", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "licenses",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("license_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("term_end", sa.Date, nullable=False),
        sa.Column("continuous_since", sa.Date, nullable=False),
        sa.Column("years_seen", sa.Integer, nullable=False, server_default="0"),
        _ts("updated_at"),
    )
    op.create_index("licenses_by_account", "licenses", ["tenant_id", "account_id"])
    op.create_table(
        "seats",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("license_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
    )
    op.create_index("seats_by_account", "seats", ["tenant_id", "account_id"])


def _ledger() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("provenance", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('grant','redemption','expiry','adjustment','void')", name="txn_kind"),
        sa.CheckConstraint("provenance ? 'type'", name="txn_provenance"),
    )
    op.create_table(
        "credit_buckets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Text, sa.ForeignKey("ledger_transactions.id"), nullable=False),
        sa.Column("reward_id", sa.Text),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("granted", MONEY, nullable=False),
        sa.Column("remaining", MONEY, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("expiry_announced_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("granted > 0", name="bucket_granted_positive"),
        sa.CheckConstraint("remaining >= 0 AND remaining <= granted", name="bucket_never_negative"),
        sa.CheckConstraint("status IN ('open','expired','voided')", name="bucket_status"),
    )
    op.create_index(
        "buckets_open_by_account",
        "credit_buckets",
        ["tenant_id", "account_id", "unit"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "buckets_open_by_expiry",
        "credit_buckets",
        ["expires_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("buckets_by_reward", "credit_buckets", ["reward_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("transaction_id", sa.Text, sa.ForeignKey("ledger_transactions.id"), nullable=False),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("ledger_account", sa.Text, nullable=False),
        sa.Column("bucket_id", sa.Text, sa.ForeignKey("credit_buckets.id")),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name="entry_not_zero"),
        sa.CheckConstraint(
            "ledger_account IN ('account_balance','rewards_issued','redemptions','breakage','adjustments')",
            name="entry_ledger_account",
        ),
        sa.CheckConstraint(
            "(ledger_account = 'account_balance') = (bucket_id IS NOT NULL)", name="entry_bucket_iff_balance"
        ),
    )
    op.create_index("entries_by_transaction", "ledger_entries", ["transaction_id"])
    op.create_index("entries_by_account", "ledger_entries", ["tenant_id", "account_id", "unit", "id"])
    op.create_index("entries_by_bucket", "ledger_entries", ["bucket_id"])
    op.create_table(
        "account_balances",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("unit", sa.Text, primary_key=True),
        sa.Column("balance", MONEY, nullable=False),
        _ts("updated_at"),
        sa.CheckConstraint("balance >= 0", name="balance_never_negative"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", JSONB),
        _ts("created_at"),
    )
    op.create_index("idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def _ledger_triggers() -> None:
    # The database itself keeps the ledger honest: entries and transactions are append-only,
    # every transaction balances at commit, and the bucket and balance projections move only
    # with entries (their CHECKs make a negative balance impossible).
    for statement in _TRIGGERS:
        op.execute(statement)


_TRIGGERS = [
    """
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
    """,
    """
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
    """,
    """
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
    """,
    """
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
    """,
    """
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
    """,
    """
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT sum(amount) FROM ledger_entries WHERE transaction_id = NEW.transaction_id) <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
    """,
    """
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
    """,
    """
CREATE FUNCTION ledger_apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.ledger_account <> 'account_balance' THEN
    RETURN NULL;
  END IF;
  UPDATE credit_buckets SET remaining = remaining + NEW.amount
   WHERE id = NEW.bucket_id AND tenant_id = NEW.tenant_id AND account_id = NEW.account_id
     AND unit = NEW.unit;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'entry % names bucket % of another account', NEW.id, NEW.bucket_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF NEW.amount > 0 THEN
    INSERT INTO account_balances AS b (tenant_id, account_id, unit, balance)
    VALUES (NEW.tenant_id, NEW.account_id, NEW.unit, NEW.amount)
    ON CONFLICT (tenant_id, account_id, unit)
    DO UPDATE SET balance = b.balance + EXCLUDED.balance, updated_at = now();
  ELSE
    -- an upsert would check the negative proposed row before finding the conflict
    UPDATE account_balances SET balance = balance + NEW.amount, updated_at = now()
     WHERE tenant_id = NEW.tenant_id AND account_id = NEW.account_id AND unit = NEW.unit;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no balance to debit for entry %', NEW.id USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NULL;
END $$;
    """,
    """
CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_apply_entry();
    """,
]


def downgrade() -> None:
    raise NotImplementedError("forward-only in production")
