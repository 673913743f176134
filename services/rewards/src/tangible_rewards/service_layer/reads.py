"""What repositories hand the service layer besides domain objects: small read records, never rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ExpiryBucket:
    """Spendable credit that expires at one instant (None: never)."""

    amount: Decimal
    expires_at: datetime | None


@dataclass(frozen=True)
class HistoryEntry:
    """The account's own side of one ledger transaction."""

    entry_id: int
    transaction_id: str
    kind: str
    amount: Decimal
    bucket_id: str
    expires_at: datetime | None
    provenance: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class GrantedReward:
    id: str
    tenant_id: str
    account_id: str
    rule_id: str
    rule_key: str
    rule_version: int
    name: str
    kind: str
    period_key: str
    reward_period: str
    credits: Decimal | None
    reward: dict[str, Any]
    status: str
    granted_at: datetime


@dataclass(frozen=True)
class StoredOutcome:
    """The first outcome of a request under an Idempotency-Key."""

    request_hash: str
    status_code: int
    response: dict[str, Any]


@dataclass(frozen=True)
class ItemRedemptionRecord:
    """One catalogue item bought: what counts toward the account's limit for it."""

    id: str
    tenant_id: str
    account_id: str
    item_key: str
    price: Decimal
    unit: str
    transaction_id: str
    idempotency_key: str
    actor: str
    user_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class ExpiringCredit:
    """The tenant's book, rewards' part: one account's open credit in one unit that expires
    within the window asked, and when the first of it does."""

    account_id: str
    unit: str
    expiring: Decimal
    first_expiry: datetime

    @property
    def key(self) -> tuple[Any, ...]:
        """Where it stands in the book's order (soonest expiry, account, unit): the cursor after it."""
        return (self.first_expiry, self.account_id, self.unit)
