"""notifications' tables (the migrations create them; this is the query-side mirror)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()
TS = DateTime(timezone=True)

rules = Table(
    "notification_rules",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("event_types", ARRAY(Text), nullable=False),
    Column("channels", ARRAY(Text), nullable=False),
    Column("title_template", Text),
    Column("body_template", Text),
    Column("html_template", Text),
    Column("priority", Text, nullable=False),
    Column("category", Text, nullable=False, server_default="general"),
    Column("filters", JSONB, nullable=False, server_default="{}"),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", TS, nullable=False, server_default=func.now()),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("purpose", Text, nullable=False, server_default="standard"),
    Column("url", Text),
    Column("sender", Text),
    Column("recipients", ARRAY(Text), nullable=False, server_default="{}"),
    Column("to_account_contacts", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", Text),
    Column("disabled_at", TS),
    Column("failing_since", TS),
    Column("created_at", TS, nullable=False, server_default=func.now()),
)

channel_secrets = Table(
    "channel_secrets",
    metadata,
    Column("id", Text, primary_key=True),
    Column("channel_id", Text, ForeignKey("channels.id"), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS),
)

templates = Table(
    "templates",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("event_type", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("html", Text),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
)

tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("inbox_enabled", Boolean, nullable=False),
    Column("quarterly_summary", Boolean, nullable=False),
    Column("quarterly_channels", ARRAY(Text), nullable=False),
    Column("digest_hour", Integer, nullable=False),
)

preferences = Table(
    "preferences",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True, server_default=""),
    Column("email", Text),
    Column("timezone", Text, nullable=False),
    Column("quiet_start", Time),
    Column("quiet_end", Time),
    Column("channels", JSONB, nullable=False),
    Column("locale", Text),
)

accounts = Table(
    "accounts",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("license_id", Text),
    Column("term_start", Date),
    Column("term_end", Date),
    Column("first_seen_at", TS, nullable=False, server_default=func.now()),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("job", Text, primary_key=True),
    Column("period_key", Text, primary_key=True),
    Column("tenant_id", Text, primary_key=True),
    Column("ran_at", TS, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("source_event_id", Text, nullable=False),
    Column("event_type", Text, nullable=False, server_default=""),
    Column("channel", Text, nullable=False),
    Column("channel_id", Text),
    Column("recipient", Text, nullable=False),
    Column("user_id", Text),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("html", Text),
    Column("category", Text, nullable=False, server_default="general"),
    Column("priority", Text, nullable=False, server_default="normal"),
    Column("status", Text, nullable=False),
    Column("context", JSONB),
    Column("template", JSONB),
    Column("digest_key", Text),
    Column("digest_due_at", TS),
    Column("digest_id", Text),
    Column("created_at", TS, nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "source_event_id", "rule_id", "recipient", "channel"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("notification_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("channel_id", Text),
    Column("target", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TS),
    Column("series_started_at", TS),
    Column("last_error", Text),
    Column("last_status_code", Integer),
    Column("delivered_at", TS),
    Column("created_at", TS, nullable=False),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column(
        "delivery_id", Text, ForeignKey("deliveries.id", name="delivery_attempts_delivery"), nullable=False
    ),
    Column("number", Integer, nullable=False),
    Column("attempted_at", TS, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    UniqueConstraint("delivery_id", "number"),
)

inbox_items = Table(
    "inbox_items",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("user_id", Text),
    Column("notification_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("category", Text, nullable=False, server_default="general"),
    Column("priority", Text, nullable=False, server_default="normal"),
    Column("read_at", TS),
    Column("created_at", TS, nullable=False, server_default=func.now()),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

report_templates = Table(
    "report_templates",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("body", JSONB, nullable=False),
    Column("updated_at", TS, nullable=False),
)

report_share_links = Table(
    "report_share_links",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("locale", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("revoked_at", TS),
)
