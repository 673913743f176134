"""DTOs of parked usage (early usage of accounts without a license yet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ParkedUsageRead(BaseModel):
    """An event kept until its account's license is created (then applied, and gone from here)."""

    event_id: str
    account_id: str
    usage_type: str
    occurred_at: datetime
    quantity: float
    user_id: str | None
    properties: dict[str, Any]
    parked_at: datetime
    expires_at: datetime = Field(description="When it is dead-lettered (parked_expired) if no license comes.")
