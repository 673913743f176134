"""`tangible.usage.v1`: product usage accepted by usage-ingest."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, JsonValue

from tangible_schemas.base import AccountEvent


class UsageRecorded(AccountEvent):
    """One usage event, accepted once (deduplicated on tenant, source, id)."""

    event_type = "tangible.usage.v1.recorded"
    summary = "A usage event was accepted by usage-ingest and is durably in Kafka."

    event_id: str = Field(description="The producer's CloudEvent id.")
    event_source: str = Field(description="The producer's CloudEvent source.")
    usage_type: str = Field(description="The producer's CloudEvent type, e.g. report.generated.")
    occurred_at: datetime
    quantity: float = 1.0
    user_id: str | None = None
    properties: dict[str, JsonValue] = Field(default_factory=dict)
    imported: bool = Field(
        default=False,
        description="Sent through the historical import route: consumers apply it like a late event, "
        "dated by occurred_at, without notifying for the past.",
    )
