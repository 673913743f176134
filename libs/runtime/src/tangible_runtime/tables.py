"""Tables every service has: the consumer inbox and the transactional outbox."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, LargeBinary, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB


def inbox_table(metadata: MetaData) -> Table:
    """(consumer, event id) already handled: makes at-least-once delivery idempotent."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", Text, primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def outbox_table(metadata: MetaData) -> Table:
    """Records to publish, written in the transaction of the state change they announce."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("topic", Text, nullable=False),
        Column("key", LargeBinary, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def audit_table(metadata: MetaData) -> Table:
    """Changes made through admin routes: who, when, which route, each row before and after
    (secrets masked); written by triggers and `record_action` (see `tangible_runtime.audit`)."""
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("tenant_id", Text, nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor_id", Text, nullable=False),
        Column("actor_name", Text),
        Column("method", Text, nullable=False),
        Column("route", Text, nullable=False),
        Column("table_name", Text),
        Column("operation", Text, nullable=False),
        Column("before", JSONB),
        Column("after", JSONB),
        Index("audit_log_by_tenant", "tenant_id", "id"),
        Index("audit_log_by_tenant_at", "tenant_id", "at"),
    )
