"""What the repositories read back besides domain objects: small, typed records.

The adapters map their rows to these, so that nothing above them touches a database row;
the API's DTOs read them by attribute (`from_attributes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tangible_entitlements.domain.audit import HistoryEntry


@dataclass(frozen=True)
class HistoryFilter:
    actions: Sequence[str] = ()
    license_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.actions or self.license_id or self.actor or self.since or self.until)


@dataclass(frozen=True)
class HistoryRecord(HistoryEntry):
    """A written history record: the entry, its place in the account's chain and its hash."""

    seq: int
    id: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class GrantRecord:
    """A grant as stored: the benefit, whose account it is on, and who gave it why."""

    id: str
    tenant_id: str
    account_id: str
    feature_key: str
    kind: str
    value: Any
    source: str
    starts_at: datetime
    expires_at: datetime | None
    actor: str
    reason: str | None


@dataclass(frozen=True)
class RenewalNotice:
    """A renewal lead time that fell due, claimed to be announced once."""

    tenant_id: str
    account_id: str
    license_id: str
    term_end: date
    lead_days: int
    late: bool


@dataclass(frozen=True)
class PeriodCounter:
    """One period's usage of a feature, with the limit in force when usage last moved."""

    tenant_id: str
    account_id: str
    feature_key: str
    period_start: datetime
    period_end: datetime | None
    value: float
    limit_value: float | None
    overage: float = 0.0


@dataclass(frozen=True)
class FullSeats:
    """A license whose every purchased seat is assigned."""

    tenant_id: str
    account_id: str
    license_id: str
    seats: int
    assigned: int


@dataclass(frozen=True)
class LicenseRef:
    tenant_id: str
    account_id: str
    license_id: str
