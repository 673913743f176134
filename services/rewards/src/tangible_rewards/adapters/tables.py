"""rewards' tables (the migrations create them; this is the query-side mirror)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()
MONEY = Numeric(20, 2)


def _ts(name: str, nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(
        name, DateTime(timezone=True), nullable=nullable, server_default=None if nullable else func.now()
    )


milestones = Table(
    "milestones",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("latest_version", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    _ts("created_at"),
    _ts("updated_at"),
)

milestone_rules = Table(
    "milestone_rules",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("reward", JSONB, nullable=False),
    Column("repeat", Text, nullable=False, server_default="once"),
    Column("repeat_period", Text),
    Column("series", Text, nullable=False),
    Column("actor", Text, nullable=False, server_default="system"),
    _ts("created_at"),
    UniqueConstraint("tenant_id", "key", "version"),
)

progress = Table(
    "progress",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("series", Text, primary_key=True),
    Column("period_key", Text, primary_key=True),
    Column("value", Float, nullable=False),
    Column("alive_until", Date),
    _ts("updated_at"),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("rule_key", Text, nullable=False),
    Column("period_key", Text, nullable=False),
    Column("reward_period", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text),
    Column("credits", MONEY),
    Column("reward", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="granted"),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    _ts("voided_at", nullable=True),
    UniqueConstraint("tenant_id", "account_id", "rule_key", "reward_period", name="rewards_once_per_period"),
    Index("rewards_by_account", "tenant_id", "account_id", "granted_at"),
)

account_profiles = Table(
    "account_profiles",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("time_zone", Text, nullable=False),
    _ts("updated_at"),
)

daily_activity = Table(
    "daily_activity",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("activity_key", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("quantity", Float, nullable=False),
)

member_activity = Table(
    "member_activity",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("activity_key", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("last_active_at", DateTime(timezone=True), nullable=False),
)

licenses = Table(
    "licenses",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("license_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("started_on", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("continuous_since", Date, nullable=False),
    Column("years_seen", Integer, nullable=False, server_default="0"),
    _ts("updated_at"),
    Index("licenses_by_account", "tenant_id", "account_id"),
)

seats = Table(
    "seats",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("license_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Index("seats_by_account", "tenant_id", "account_id"),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("provenance", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('grant','redemption','expiry','adjustment','void')", name="txn_kind"),
    CheckConstraint("provenance ? 'type'", name="txn_provenance"),
)

credit_buckets = Table(
    "credit_buckets",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("transaction_id", Text, ForeignKey("ledger_transactions.id"), nullable=False),
    Column("reward_id", Text),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("granted", MONEY, nullable=False),
    Column("remaining", MONEY, nullable=False, server_default="0"),
    Column("expires_at", DateTime(timezone=True)),
    Column("status", Text, nullable=False, server_default="open"),
    Column("expiry_announced_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("granted > 0", name="bucket_granted_positive"),
    CheckConstraint("remaining >= 0 AND remaining <= granted", name="bucket_never_negative"),
    CheckConstraint("status IN ('open','expired','voided')", name="bucket_status"),
    Index(
        "buckets_open_by_account", "tenant_id", "account_id", "unit", postgresql_where=text("status = 'open'")
    ),
    Index("buckets_open_by_expiry", "expires_at", postgresql_where=text("status = 'open'")),
    Index("buckets_by_reward", "reward_id"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("transaction_id", Text, ForeignKey("ledger_transactions.id"), nullable=False),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("ledger_account", Text, nullable=False),
    Column("bucket_id", Text, ForeignKey("credit_buckets.id")),
    Column("amount", MONEY, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount <> 0", name="entry_not_zero"),
    Index("entries_by_transaction", "transaction_id"),
    Index("entries_by_account", "tenant_id", "account_id", "unit", "id"),
    Index("entries_by_bucket", "bucket_id"),
)

account_balances = Table(
    "account_balances",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("unit", Text, primary_key=True),
    Column("balance", MONEY, nullable=False),
    _ts("updated_at"),
    CheckConstraint("balance >= 0", name="balance_never_negative"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("status_code", Integer),
    Column("response", JSONB),
    _ts("created_at"),
    Index("idempotency_keys_created_at", "created_at"),
)

catalog_items = Table(
    "catalog_items",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("price", MONEY, nullable=False),
    Column("unit", Text, nullable=False),
    Column("stock", Integer),
    Column("per_account_limit", Integer),
    Column("active_from", DateTime(timezone=True)),
    Column("active_until", DateTime(timezone=True)),
    Column("redeemed", Integer, nullable=False, server_default=text("0")),
    _ts("created_at"),
    _ts("updated_at"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="catalog_stock_not_negative"),
    CheckConstraint("price > 0", name="catalog_price_positive"),
    CheckConstraint("per_account_limit IS NULL OR per_account_limit >= 1", name="catalog_limit_positive"),
)

catalog_redemptions = Table(
    "catalog_redemptions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("item_key", Text, nullable=False),
    Column("price", MONEY, nullable=False),
    Column("unit", Text, nullable=False),
    Column("transaction_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("user_id", Text),
    _ts("created_at"),
    Index("catalog_redemptions_by_account", "tenant_id", "account_id", "item_key"),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
