"""entitlements' tables (the migrations create them; this is the query-side mirror)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()

features = Table(
    "features",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("meter", JSONB),
    Column("outcome", Text, nullable=False, server_default=""),
    Column("impact_metric", Text),
    Column("impact_per_unit", Float),
    Column("thresholds", ARRAY(Integer), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

catalog_items = Table(
    "catalog_items",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("features", JSONB, nullable=False),
    Column("price", Float, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("retired_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("plan_key", Text, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("addons", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pending_plan_key", Text),
    Column("pending_plan_version", Integer),
    Column("prior_state", JSONB),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("trials", JSONB, nullable=False, server_default="[]"),
)

license_history = Table(
    "license_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("license_id", Text),
    Column("account_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
)

history_heads = Table(
    "history_heads",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", Text, nullable=False),
)

trials = Table(
    "trials",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("license_id", Text, nullable=False),
    Column("target_kind", Text, nullable=False),
    Column("target_key", Text, nullable=False),
    Column("target_version", Integer, nullable=False),
    Column("features", ARRAY(Text), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ending_soon_announced_at", DateTime(timezone=True)),
    Column("actor", Text, nullable=False),
    Column("reason", Text),
)

tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("lifecycle", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

renewal_notices = Table(
    "renewal_notices",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("license_id", Text, primary_key=True),
    Column("term_end", Date, primary_key=True),
    Column("lead_days", Integer, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    Column("late", Boolean, nullable=False),
)

signal_marks = Table(
    "signal_marks",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("signal", Text, primary_key=True),
    Column("evidence_key", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB),
)

usage_counters = Table(
    "usage_counters",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("feature_key", Text, primary_key=True),
    Column("period_start", DateTime(timezone=True), primary_key=True),
    Column("period_end", DateTime(timezone=True)),
    Column("aggregation", Text, nullable=False),
    Column("value", Numeric, nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("limit_value", Numeric),
    Column("overage", Numeric, nullable=False, server_default="0"),
)

usage_uniques = Table(
    "usage_uniques",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("feature_key", Text, primary_key=True),
    Column("period_start", DateTime(timezone=True), primary_key=True),
    Column("value", Text, primary_key=True),
)

threshold_marks = Table(
    "threshold_marks",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("feature_key", Text, primary_key=True),
    Column("period_start", DateTime(timezone=True), primary_key=True),
    Column("percent", Integer, primary_key=True),
    Column("crossed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("period_end", DateTime(timezone=True)),
    Column("limit_value", Numeric),
    Column("recovered_at", DateTime(timezone=True)),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("feature_key", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("value", JSONB),
    Column("source", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("actor", Text, nullable=False, server_default="system"),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expiry_announced_at", DateTime(timezone=True)),
)

seat_assignments = Table(
    "seat_assignments",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("license_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
)

user_activity = Table(
    "user_activity",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("last_active_at", DateTime(timezone=True), nullable=False),
)

usage_daily = Table(
    "usage_daily",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("feature_key", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("aggregation", Text, nullable=False),
    Column("value", Numeric, nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)


credentials = Table(
    "credentials",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", Text),
)


# usage of accounts without a license yet, kept until one is created (domain/parking.py)
parked_usage = Table(
    "parked_usage",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("usage_type", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("user_id", Text),
    Column("properties", JSONB, nullable=False),
    Column("consumer", Text, nullable=False),
    Column("record_key", LargeBinary, nullable=False),
    Column("record_value", LargeBinary, nullable=False),
    Column("header_names", ARRAY(Text), nullable=False),
    Column("header_values", ARRAY(LargeBinary), nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)
