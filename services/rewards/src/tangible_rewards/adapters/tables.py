"""rewards' tables (the migrations create them; this is the query-side mirror)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()

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
    Column("enabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "key", "version"),
)

progress = Table(
    "progress",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("rule_id", Text, primary_key=True),
    Column("period_key", Text, primary_key=True),
    Column("value", Numeric, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rewards = Table(
    "rewards",
    metadata,
    Column("id", Text, primary_key=True),
    Column("tenant_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("rule_id", Text, nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("period_key", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reward", JSONB, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "account_id", "rule_id", "period_key"),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
