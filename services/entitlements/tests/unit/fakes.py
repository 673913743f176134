"""In-memory unit of work for handler tests: the SQL repositories' semantics, without SQL.

The store is plain dictionaries; a unit of work snapshots it on entry and puts the snapshot
back unless committed, as a rolled-back transaction would. The repositories
(`fake_repositories`, `fake_metering`) keep the rules the SQL keeps: the inbox and every
claim return each id once, counters fold as `counters._FOLD` does, threshold marks and
grants insert "on conflict do nothing". Only what handlers call is here; the integration
suite remains the truth about the SQL itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

from entitlements_unit.fake_metering import FakeCounters, FakeThresholds, Fold
from entitlements_unit.fake_repositories import (
    FakeCatalog,
    FakeGrants,
    FakeHistory,
    FakeLicenses,
    FakePolicies,
    FakeSeats,
    FakeTrials,
)

from tangible_entitlements.domain.audit import HistoryEntry
from tangible_entitlements.domain.metering import CounterKey
from tangible_entitlements.domain.model import CatalogItem, Feature, License, Trial
from tangible_entitlements.domain.parking import ParkedUsage
from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.reads import GrantRecord
from tangible_schemas import EventData


@dataclass
class Store:
    """The fake database. `events` are the committed outbox; `dead_letters` its refusals."""

    inbox: set[tuple[str, str]] = field(default_factory=set)
    features: dict[str, dict[str, Feature]] = field(default_factory=dict)
    items: dict[tuple[str, str, int], CatalogItem] = field(default_factory=dict)
    licenses: dict[tuple[str, str], License] = field(default_factory=dict)  # in creation order
    seats: dict[tuple[str, str], dict[str, datetime]] = field(default_factory=dict)
    counters: dict[CounterKey, Fold] = field(default_factory=dict)
    uniques: set[tuple[CounterKey, str]] = field(default_factory=set)
    days: dict[Any, Fold] = field(default_factory=dict)
    activity: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    grants: dict[str, GrantRecord] = field(default_factory=dict)
    grants_announced: set[str] = field(default_factory=set)
    marks: dict[tuple[CounterKey, int], tuple[datetime | None, float, datetime | None]] = field(
        default_factory=dict
    )  # → (period end, limit, recovered at)
    history: list[HistoryEntry] = field(default_factory=list)
    trials: dict[str, Trial] = field(default_factory=dict)
    trials_announced: set[str] = field(default_factory=set)
    policies: dict[str, LifecyclePolicy] = field(default_factory=dict)
    events: list[EventData] = field(default_factory=list)
    dead_letters: list[tuple[str, bytes, str]] = field(default_factory=list)
    parked: dict[tuple[str, str], ParkedUsage] = field(default_factory=dict)  # (tenant, event id)

    def of(self, kind: type[EventData]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[EventData] = []
        self.dead_letters: list[tuple[str, bytes, str]] = []

    def add(self, data: EventData) -> None:
        self.pending.append(data)

    def add_dead_letter(
        self, consumer: str, *, key: bytes, value: bytes, headers: Iterable[tuple[str, bytes]], reason: str
    ) -> None:
        self.dead_letters.append((consumer, key, reason))


class FakeInbox:
    def __init__(self, db: Store, consumer: str) -> None:
        self._db, self._consumer = db, consumer

    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        fresh = {i for i in event_ids if (self._consumer, i) not in self._db.inbox}
        self._db.inbox |= {(self._consumer, i) for i in fresh}
        return fresh

    async def release(self, event_ids: Iterable[str]) -> None:
        self._db.inbox -= {(self._consumer, i) for i in event_ids}


class FakeParked:
    """Parked usage; one fake transaction at a time, so the account lock has nothing to do."""

    def __init__(self, db: Store) -> None:
        self._db = db

    async def lock_accounts(self, accounts: Sequence[tuple[str, str]]) -> None:
        return None

    async def counts(self, tenant_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(tenant_ids)
        counts: dict[str, int] = {}
        for tenant, _ in self._db.parked:
            if tenant in wanted:
                counts[tenant] = counts.get(tenant, 0) + 1
        return counts

    async def park(self, parked: Sequence[ParkedUsage]) -> None:
        for item in parked:  # on conflict do nothing
            self._db.parked.setdefault((item.usage.tenant_id, item.usage.event_id), item)

    def _take(self, keep: Callable[[ParkedUsage], bool], limit: int | None = None) -> list[ParkedUsage]:
        ordered = sorted(self._db.parked.values(), key=lambda p: (p.usage.occurred_at, p.usage.event_id))
        taken = [p for p in ordered if keep(p)][:limit]
        for item in taken:
            del self._db.parked[(item.usage.tenant_id, item.usage.event_id)]
        return taken

    async def take(self, accounts: Sequence[tuple[str, str]]) -> list[ParkedUsage]:
        wanted = set(accounts)
        return self._take(lambda p: (p.usage.tenant_id, p.usage.account_id) in wanted)

    async def take_expired(self, before: datetime, limit: int) -> list[ParkedUsage]:
        return self._take(lambda p: p.usage.occurred_at < before, limit)


class FakeUnitOfWork:
    """One "transaction" on `store`: its changes and events stay only if committed."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.commits = 0

    async def __aenter__(self) -> Self:
        self._before = copy.deepcopy(vars(self.store))
        db = self.store
        self.catalog, self.licenses, self.seats = FakeCatalog(db), FakeLicenses(db), FakeSeats(db)
        self.counters, self.thresholds, self.grants = FakeCounters(db), FakeThresholds(db), FakeGrants(db)
        self.trials, self.policies, self.history = FakeTrials(db), FakePolicies(db), FakeHistory(db)
        self.parked = FakeParked(db)
        self.outbox = FakeOutbox()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        vars(self.store).update(self._before)  # what commit kept is in `_before` already

    def inbox(self, consumer: str) -> FakeInbox:
        return FakeInbox(self.store, consumer)

    async def commit(self) -> None:
        self.store.events.extend(self.outbox.pending)
        self.store.dead_letters.extend(self.outbox.dead_letters)
        self.outbox = FakeOutbox()
        self._before = copy.deepcopy(vars(self.store))
        self.commits += 1


def new_uow(store: Store) -> Callable[[], UnitOfWork]:
    """New units of work on `store`, typed as the handlers take them. The fake has only what
    the handlers call (not the API's reads: renewals, signals, reports, credentials, the
    history's proofs), so this is the one place that hands it over as the whole port."""
    return lambda: cast(UnitOfWork, FakeUnitOfWork(store))
