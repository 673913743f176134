"""usage-ingest's tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, Table, Text

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()

dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("tenant_id", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("payload_hash", LargeBinary, nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
