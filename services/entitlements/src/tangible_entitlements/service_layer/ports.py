"""What the service layer needs from storage: the unit of work and its repositories.

Handlers, views and the live view are typed against these Protocols; the SQL unit of work
(`unit_of_work.UnitOfWork`) satisfies them structurally (mypy checks it where bootstrap
hands it over), and so do the in-memory fakes of the handler unit tests. Methods only the
API's list routes call (`page_*`) stay on the concrete repositories.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from tangible_entitlements.domain.audit import HistoryEntry
from tangible_entitlements.domain.commands import GrantBenefit
from tangible_entitlements.domain.credentials import Credential
from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.metering import CounterDelta, CounterKey, DayDelta
from tangible_entitlements.domain.model import (
    Aggregation,
    CatalogItem,
    CatalogStatus,
    Feature,
    License,
    Trial,
)
from tangible_entitlements.domain.parking import ParkedUsage
from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.domain.signals import MarkKey
from tangible_entitlements.service_layer.reads import (
    BookFilter,
    BookRow,
    BookSort,
    FullSeats,
    GrantRecord,
    HistoryFilter,
    HistoryRecord,
    LicenseRef,
    PeriodCounter,
    RenewalNotice,
)
from tangible_schemas import EventData

AccountKey = tuple[str, str]  # tenant, account
ItemKey = tuple[str, str, int]  # tenant, key, version
ThresholdMark = tuple[CounterKey, int]  # a counter's period and a percentage crossed in it


class Catalog(Protocol):
    async def add_feature(self, tenant_id: str, feature: Feature) -> None: ...
    async def save_feature(self, tenant_id: str, feature: Feature) -> None: ...
    async def feature(self, tenant_id: str, key: str) -> Feature | None: ...
    async def features(self, tenant_ids: Iterable[str]) -> dict[str, list[Feature]]: ...
    async def all_features(self) -> dict[str, list[Feature]]: ...
    async def add_item(self, tenant_id: str, item: CatalogItem) -> None: ...
    async def save_draft(self, tenant_id: str, item: CatalogItem) -> None: ...
    async def latest_version(self, tenant_id: str, key: str, *, lock: bool = False) -> tuple[int, str | None]:
        """Highest version of `key` and its kind; `lock` serialises concurrent new versions."""

    async def item(self, tenant_id: str, key: str, version: int | None = None) -> CatalogItem | None:
        """A given version, or (version None) the latest published one."""

    async def items(self, keys: Iterable[ItemKey]) -> dict[ItemKey, CatalogItem]: ...
    async def non_drafts(self, tenant_ids: Iterable[str] | None = None) -> dict[ItemKey, CatalogItem]: ...
    async def set_status(
        self, tenant_id: str, key: str, version: int, status: CatalogStatus, at: datetime
    ) -> None: ...
    async def published_latest(self, tenant_id: str) -> list[CatalogItem]: ...


class Licenses(Protocol):
    async def add(self, licenses: Sequence[License]) -> None: ...
    async def save(self, license: License) -> None: ...
    async def get(self, tenant_id: str, license_id: str, *, for_update: bool = False) -> License | None: ...
    async def for_account(self, tenant_id: str, account_id: str) -> License | None: ...
    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, License]:
        """The current license of each account (the latest created)."""

    async def current_all(self) -> dict[AccountKey, License]: ...


class Seats(Protocol):
    async def users(self, tenant_id: str, license_id: str) -> list[str]: ...
    async def assign(self, license: License, user_id: str, at: datetime) -> bool: ...
    async def unassign(self, tenant_id: str, license_id: str, user_ids: Sequence[str]) -> int: ...
    async def reassign(self, license: License, user_ids: Sequence[str], at: datetime) -> None: ...
    async def counts(self) -> dict[tuple[str, str], int]: ...
    async def allocation(
        self, tenant_id: str, license_id: str, account_id: str, active_since: datetime
    ) -> list[tuple[str, datetime | None, bool]]: ...


class Counters(Protocol):
    async def apply(
        self, deltas: Sequence[CounterDelta]
    ) -> tuple[dict[CounterKey, float], set[tuple[CounterKey, str]]]:
        """Fold the deltas into their counters; returns the new values and the unique values
        never seen before in their period (unique-count deltas are set to those)."""

    async def apply_days(self, days: Sequence[DayDelta]) -> None: ...
    async def record_activity(self, activity: Mapping[tuple[str, str, str], datetime]) -> None: ...
    async def set_limits(self, limits: Mapping[CounterKey, tuple[float, bool]]) -> None: ...
    async def values(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]: ...
    async def current(self, since: datetime) -> list[tuple[CounterKey, datetime | None, float]]: ...
    async def days(
        self, tenant_id: str, account_id: str, start: date, end: date
    ) -> dict[str, dict[date, float]]: ...


class Grants(Protocol):
    async def add_many(self, grants: Sequence[GrantBenefit]) -> list[str]:
        """Insert grants (ids are deterministic per source); returns the ids that are new."""

    async def get(self, tenant_id: str, grant_id: str) -> GrantRecord | None: ...
    async def end(self, tenant_id: str, grant_id: str, at: datetime) -> None: ...
    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, list[Grant]]: ...
    async def unexpired(self, since: datetime) -> dict[AccountKey, list[Grant]]: ...
    async def claim_expired(self, now: datetime, limit: int) -> list[GrantRecord]:
        """Grants past expiry not yet announced, marked announced (each once)."""


class Thresholds(Protocol):
    async def mark(
        self, marks: Sequence[tuple[CounterKey, int, datetime | None, float]]
    ) -> list[ThresholdMark]:
        """Record crossings; returns only those never recorded before (once per period)."""

    async def open_marks(self, tenant_id: str, account_id: str, now: datetime) -> list[ThresholdMark]: ...
    async def claim_ended_marks(
        self, now: datetime, limit: int
    ) -> list[tuple[CounterKey, int, datetime, float]]:
        """Crossings whose period has ended, marked recovered (each once)."""

    async def mark_recovered(self, marks: Sequence[ThresholdMark], now: datetime) -> None: ...


class History(Protocol):
    async def append(self, entries: Sequence[HistoryEntry]) -> None:
        """Chain the entries onto their accounts' histories."""

    def batches(
        self, tenant_id: str, account_id: str, filters: HistoryFilter, size: int = 1000
    ) -> AsyncIterator[list[HistoryRecord]]: ...
    async def hashes(self, tenant_id: str, account_id: str, seqs: Sequence[int]) -> dict[int, str]: ...
    async def head(self, tenant_id: str, account_id: str) -> tuple[int, str] | None: ...
    async def state_at(self, tenant_id: str, account_id: str, at: datetime) -> dict[str, Any] | None: ...


class Trials(Protocol):
    async def add(self, trial: Trial) -> None: ...
    async def get(self, tenant_id: str, trial_id: str, *, for_update: bool = False) -> Trial | None: ...
    async def past_targets(self, tenant_id: str, account_id: str) -> list[tuple[str, str]]: ...
    async def running_features(self, tenant_id: str, license_id: str) -> list[frozenset[str]]: ...
    async def finish(self, tenant_id: str, trial_id: str, status: str, at: datetime) -> None: ...
    async def claim_due(self, now: datetime, limit: int) -> list[Trial]:
        """Running trials past their end, locked with their license."""

    async def claim_ending_soon(self, now: datetime, default_days: int, limit: int) -> list[Trial]:
        """Running trials within their tenant's lead time of the end, marked announced (once)."""


class Policies(Protocol):
    async def get(self, tenant_id: str) -> LifecyclePolicy: ...
    async def get_many(self, tenant_ids: Iterable[str]) -> dict[str, LifecyclePolicy]: ...
    async def save(self, tenant_id: str, policy: LifecyclePolicy) -> None: ...


class Renewals(Protocol):
    async def claim_due(self, now: datetime, default_leads: Sequence[int], limit: int) -> list[RenewalNotice]:
        """Lead times fallen due and never announced for this term, recorded (each once)."""


class Signals(Protocol):
    async def counters_near_limit(self, now: datetime, default_percent: float) -> list[PeriodCounter]: ...
    async def previous_periods(
        self, keys: Sequence[tuple[str, str, str, datetime]]
    ) -> dict[tuple[str, str, str, datetime], PeriodCounter]: ...
    async def seats_full(self) -> list[FullSeats]: ...
    async def renewing_within(self, now: datetime, default_days: int) -> list[LicenseRef]: ...
    async def marked(self, keys: Sequence[MarkKey]) -> set[MarkKey]: ...
    async def mark(
        self, marks: Sequence[tuple[MarkKey, dict[str, Any] | None]], now: datetime
    ) -> set[MarkKey]:
        """Record evidence as considered; returns the keys that are new (emit only those)."""

    async def upgrade_suggestions(
        self, tenant_id: str, account_id: str
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """The account's emitted upgrade suggestions (payload: the event), newest first."""

    async def last_upgrades(self, tenant_id: str, account_id: str) -> dict[str, datetime]:
        """When each license last changed plan, gained an add-on or converted a trial."""


class Reports(Protocol):
    async def days_of(
        self, accounts: Sequence[AccountKey], start: date, end: date
    ) -> dict[AccountKey, dict[str, dict[date, float]]]: ...
    async def cohort_distribution(
        self,
        tenant_id: str,
        plan_key: str,
        feature_key: str,
        aggregation: Aggregation,
        start: date,
        end: date,
    ) -> list[float]: ...


class Book(Protocol):
    async def page(
        self,
        tenant_id: str,
        filters: BookFilter,
        sort: BookSort,
        *,
        now: datetime,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[BookRow]:
        """Up to `limit` licenses after `after` (a row's `key`); ValueError for a key that
        is not one of this order's."""


class Credentials(Protocol):
    async def add(self, credential: Credential) -> None: ...
    async def page(self, tenant_id: str, limit: int, offset: int) -> tuple[list[Credential], int]: ...
    async def revoke(
        self, tenant_id: str, credential_id: str, at: datetime, by: str
    ) -> Credential | None: ...


class Outbox(Protocol):
    def add(self, data: EventData) -> object: ...
    def add_dead_letter(
        self, consumer: str, *, key: bytes, value: bytes, headers: Iterable[tuple[str, bytes]], reason: str
    ) -> None: ...


class Inbox(Protocol):
    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        """Record the ids as handled; returns those never seen before."""

    async def release(self, event_ids: Iterable[str]) -> None:
        """Forget claimed ids whose events were refused, so that a replay applies them."""


class Parked(Protocol):
    async def lock_accounts(self, accounts: Sequence[AccountKey]) -> None:
        """Serialise, per account, parking against license creation (till the transaction ends)."""

    async def counts(self, tenant_ids: Iterable[str]) -> dict[str, int]: ...
    async def park(self, parked: Sequence[ParkedUsage]) -> None: ...
    async def take(self, accounts: Sequence[tuple[str, str]]) -> list[ParkedUsage]:
        """Removes and returns the parked events of these (tenant, account)s, in event-time order."""

    async def take_expired(self, before: datetime, limit: int) -> list[ParkedUsage]: ...


class UnitOfWork(Protocol):
    """One transaction over every repository: rolled back on leaving unless committed."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def licenses(self) -> Licenses: ...
    @property
    def seats(self) -> Seats: ...
    @property
    def counters(self) -> Counters: ...
    @property
    def grants(self) -> Grants: ...
    @property
    def thresholds(self) -> Thresholds: ...
    @property
    def history(self) -> History: ...
    @property
    def trials(self) -> Trials: ...
    @property
    def policies(self) -> Policies: ...
    @property
    def renewals(self) -> Renewals: ...
    @property
    def signals(self) -> Signals: ...
    @property
    def reports(self) -> Reports: ...
    @property
    def credentials(self) -> Credentials: ...
    @property
    def book(self) -> Book: ...
    @property
    def parked(self) -> Parked: ...
    @property
    def outbox(self) -> Outbox: ...

    def inbox(self, consumer: str) -> Inbox: ...
    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
