"""The tenant's book, rewards' part: an account's credit expiring, as listed and as a CSV line."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from tangible_rewards.service_layer import reads


class ExpiringCredit(BaseModel):
    account_id: str
    unit: str
    expiring: Decimal  # open credit that expires within the window
    first_expiry: datetime

    @classmethod
    def of(cls, entry: reads.ExpiringCredit) -> ExpiringCredit:
        return cls(
            account_id=entry.account_id,
            unit=entry.unit,
            expiring=entry.expiring,
            first_expiry=entry.first_expiry,
        )


CSV_COLUMNS = [*ExpiringCredit.model_fields]


def csv_values(entry: ExpiringCredit) -> list[Any]:
    return [entry.account_id, entry.unit, entry.expiring, entry.first_expiry.isoformat()]
