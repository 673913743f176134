"""What the repositories read back besides domain objects: small, typed records.

The adapters map their rows to these, so that nothing above them touches a database row;
the API's DTOs read them by attribute (`from_attributes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

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


BookSort = Literal["term_end", "account_id", "limit_used", "risk", "upgrade"]


@dataclass(frozen=True)
class BookFilter:
    """The tenant's book: which licenses (every filter given must hold)."""

    renewing_from: date | None = None
    renewing_to: date | None = None  # inclusive
    status: str | None = None
    idle_seats_above: float | None = None  # percent of the license's seats unassigned
    at_risk: bool | None = None  # a renewal risk detected for the license's current term
    upgrade_candidate: bool | None = None  # an open upgrade suggestion
    limit_used_above: float | None = None  # a current period's usage above N % of its limit


@dataclass(frozen=True)
class BookRow:
    """A license in the book with its evidence: the usage of its limited features in their
    current periods, the renewal risk detected for its term (the `renewal_risk_detected`
    payload) and its open upgrade suggestions (the `upgrade_suggested` payloads), as emitted."""

    license_id: str
    account_id: str
    plan_key: str
    status: str
    term_start: date
    term_end: date
    seats: int
    seats_assigned: int
    limit_used_percent: float | None  # the highest share of a limit used now
    limits: list[dict[str, Any]]
    risk: dict[str, Any] | None
    upgrade_suggestions: list[dict[str, Any]]
    key: tuple[Any, ...]  # where it stands in the order asked for: the cursor after it
