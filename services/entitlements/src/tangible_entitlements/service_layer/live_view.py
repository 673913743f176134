"""An API replica's in-memory entitlements: built from the database, then kept fresh by the
events of `tangible.entitlements.v1` (see entrypoints/follower.py). Checks read only memory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tangible_entitlements.domain import trials
from tangible_entitlements.domain.entitlement import Entitlement, Grant, evaluate_license
from tangible_entitlements.domain.errors import LicenseNotFound
from tangible_entitlements.domain.model import CatalogItem, Feature, License
from tangible_entitlements.service_layer.answer_cache import AnswerCache, next_moment
from tangible_entitlements.service_layer.checks import CheckResult, check
from tangible_entitlements.service_layer.ports import UnitOfWork

AccountKey = tuple[str, str]
ItemKey = tuple[str, str, int]
CounterId = tuple[str, str, str]  # tenant, account, feature

KEEP = timedelta(days=2)  # grants and counters that ended longer ago than this are not needed


class LiveView:
    def __init__(self) -> None:
        self.features: dict[str, list[Feature]] = {}
        self.items: dict[ItemKey, CatalogItem] = {}
        self.licenses: dict[AccountKey, License] = {}
        self.grants: dict[AccountKey, list[Grant]] = {}
        self.counters: dict[CounterId, dict[datetime, float]] = {}
        self.counter_ends: dict[tuple[str, str, str, datetime], datetime | None] = {}
        self.seats: dict[tuple[str, str], int] = {}
        # rendered answers; every change below forgets the answers it may change
        self.answers = AnswerCache()
        self.loaded = False
        self.caught_up = False

    # -- reads -------------------------------------------------------------------------------

    def feature(self, tenant_id: str, feature_key: str) -> Feature | None:
        return next((f for f in self.features.get(tenant_id, []) if f.key == feature_key), None)

    def evaluate(
        self, tenant_id: str, account_id: str, feature: Feature, *, usage: float, at: datetime
    ) -> Entitlement:
        return evaluate_license(
            feature,
            license=self.licenses.get((tenant_id, account_id)),
            items=self.items,
            grants=self.grants.get((tenant_id, account_id), []),
            usage=usage,
            at=at,
        )

    def check(
        self, tenant_id: str, account_id: str, *, at: datetime, feature_key: str | None = None
    ) -> list[CheckResult]:
        license = self.licenses.get((tenant_id, account_id))
        if license is None:
            raise LicenseNotFound(f"account '{account_id}' has no license")
        counters = self.counters

        def counter(feature: Feature, period_start: datetime) -> float:
            return counters.get((tenant_id, account_id, feature.key), {}).get(period_start, 0.0)

        return check(
            self,
            license,
            self.features.get(tenant_id, []),
            at=at,
            feature_key=feature_key,
            counter=counter,
            seats_assigned=self.seats.get((tenant_id, license.id), 0),
        )

    def next_moment(
        self, tenant_id: str, account_id: str, results: list[CheckResult], at: datetime
    ) -> datetime | None:
        """When these results, checked at `at`, may change without an event (see answer_cache)."""
        return next_moment(
            self.licenses[(tenant_id, account_id)], self.grants.get((tenant_id, account_id), []), results, at
        )

    # -- loading from the database ------------------------------------------------------------

    async def load(self, uow: UnitOfWork, now: datetime) -> None:
        """Everything current, in a handful of queries (a cold replica's first step)."""
        async with uow:
            features = await uow.catalog.all_features()
            items = await uow.catalog.non_drafts()
            licenses = await uow.licenses.current_all()
            grants = await uow.grants.unexpired(now - KEEP)
            counters = await uow.counters.current(now - KEEP)
            seats = await uow.seats.counts()
        self.features = features
        self.items = items
        self.licenses = licenses
        self.grants = grants
        self.counters = {}
        self.counter_ends = {}
        for key, end, value in counters:
            self.set_counter(key.tenant_id, key.account_id, key.feature_key, key.period_start, end, value)
        self.seats = seats
        self.answers.clear()
        self.loaded = True

    async def reload_accounts(self, uow: UnitOfWork, keys: Iterable[AccountKey]) -> None:
        """A license, seat or grant event arrived: re-read those accounts (off the hot path)."""
        wanted = sorted(set(keys))
        if not wanted:
            return
        async with uow:
            licenses = await uow.licenses.for_accounts(wanted)
            grants = await uow.grants.for_accounts(wanted)
            needed = {(lic.tenant_id, k, v) for lic in licenses.values() for k, v in trials.item_keys(lic)}
            items = await uow.catalog.items(needed - self.items.keys())
            seats = {
                (lic.tenant_id, lic.id): len(await uow.seats.users(lic.tenant_id, lic.id))
                for lic in licenses.values()
            }
        self.items.update(items)
        for key in wanted:
            if key in licenses:
                self.licenses[key] = licenses[key]
            self.grants[key] = grants.get(key, [])
            self.answers.forget(key)
        self.seats.update(seats)

    async def reload_catalogs(self, uow: UnitOfWork, tenant_ids: Iterable[str]) -> None:
        tenants = set(tenant_ids)
        if not tenants:
            return
        async with uow:
            features = await uow.catalog.features(tenants)
            items = await uow.catalog.non_drafts(tenants)
        for tenant in tenants:
            self.features[tenant] = features.get(tenant, [])
        self.items.update(items)
        self.answers.clear()  # rare: a catalog published

    # -- events applied directly ---------------------------------------------------------------

    def set_counter(
        self,
        tenant_id: str,
        account_id: str,
        feature_key: str,
        period_start: datetime,
        period_end: datetime | None,
        value: float,
    ) -> None:
        self.counters.setdefault((tenant_id, account_id, feature_key), {})[period_start] = value
        self.counter_ends[(tenant_id, account_id, feature_key, period_start)] = period_end
        self.answers.forget((tenant_id, account_id))

    def set_seats(self, tenant_id: str, account_id: str, license_id: str, assigned: int) -> None:
        self.seats[(tenant_id, license_id)] = assigned
        self.answers.forget((tenant_id, account_id))

    def prune(self, now: datetime) -> int:
        """Forget counters of periods long over (late events re-add what they need)."""
        horizon = now - KEEP
        old = [k for k, end in self.counter_ends.items() if end is not None and end < horizon]
        for tenant, account, feature, start in old:
            del self.counter_ends[(tenant, account, feature, start)]
            periods = self.counters.get((tenant, account, feature), {})
            periods.pop(start, None)
        return len(old)
