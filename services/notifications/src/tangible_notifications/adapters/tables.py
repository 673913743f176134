"""notifications' tables (the migrations create them; this is the query-side mirror)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, MetaData, Table, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()

rules = Table(
    "notification_rules",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("event_types", ARRAY(Text), nullable=False),
    Column("channels", ARRAY(Text), nullable=False),
    Column("title_template", Text, nullable=False),
    Column("body_template", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("source_event_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "source_event_id", "rule_id", "recipient", "channel"),
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
    Column("read_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
