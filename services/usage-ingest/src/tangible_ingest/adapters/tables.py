"""usage-ingest's tables."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, LargeBinary, MetaData, Table

from tangible_runtime.tables import inbox_table, outbox_table

metadata = MetaData()

# key: first 16 bytes of SHA-256 over tenant, source and id joined by U+001F
dedup_keys = Table(
    "dedup_keys",
    metadata,
    Column("key", LargeBinary, primary_key=True),
    Column("payload_hash", LargeBinary, nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Index("dedup_keys_accepted_at", "accepted_at", postgresql_using="brin"),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
