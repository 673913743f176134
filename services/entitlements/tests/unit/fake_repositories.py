"""Fake catalog, licenses, seats, grants, trials, policies and history (see `fakes`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tangible_entitlements.domain.audit import HistoryEntry
from tangible_entitlements.domain.commands import GrantBenefit
from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.model import CatalogItem, CatalogStatus, Feature, License, Trial
from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.service_layer.reads import GrantRecord

if TYPE_CHECKING:
    from entitlements_unit.fakes import Store

AccountKey = tuple[str, str]


class FakeCatalog:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def add_feature(self, tenant_id: str, feature: Feature) -> None:
        self._db.features.setdefault(tenant_id, {})[feature.key] = feature

    save_feature = add_feature

    async def feature(self, tenant_id: str, key: str) -> Feature | None:
        return self._db.features.get(tenant_id, {}).get(key)

    async def features(self, tenant_ids: Iterable[str]) -> dict[str, list[Feature]]:
        found = {t: self._db.features.get(t, {}) for t in set(tenant_ids)}
        return {t: [fs[k] for k in sorted(fs)] for t, fs in found.items() if fs}

    async def add_item(self, tenant_id: str, item: CatalogItem) -> None:
        self._db.items[(tenant_id, item.key, item.version)] = item

    async def save_draft(self, tenant_id: str, item: CatalogItem) -> None:
        stored = self._db.items.get((tenant_id, item.key, item.version))
        if stored is not None and stored.status is CatalogStatus.DRAFT:
            self._db.items[(tenant_id, item.key, item.version)] = item

    async def latest_version(self, tenant_id: str, key: str, *, lock: bool = False) -> tuple[int, str | None]:
        versions = [i for (t, k, _), i in self._db.items.items() if (t, k) == (tenant_id, key)]
        latest = max(versions, key=lambda i: i.version, default=None)
        return (latest.version, latest.kind) if latest else (0, None)

    async def item(self, tenant_id: str, key: str, version: int | None = None) -> CatalogItem | None:
        if version is not None:
            return self._db.items.get((tenant_id, key, version))
        published = [
            i
            for (t, k, _), i in self._db.items.items()
            if (t, k) == (tenant_id, key) and i.status is CatalogStatus.PUBLISHED
        ]
        return max(published, key=lambda i: i.version, default=None)

    async def items(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], CatalogItem]:
        return {k: self._db.items[k] for k in set(keys) if k in self._db.items}

    async def set_status(
        self, tenant_id: str, key: str, version: int, status: CatalogStatus, at: datetime
    ) -> None:
        stored = self._db.items[(tenant_id, key, version)]
        self._db.items[(tenant_id, key, version)] = replace(stored, status=status)


class FakeLicenses:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def add(self, licenses: Sequence[License]) -> None:
        for license in licenses:
            self._db.licenses[(license.tenant_id, license.id)] = license

    async def save(self, license: License) -> None:
        self._db.licenses[(license.tenant_id, license.id)] = license

    async def get(self, tenant_id: str, license_id: str, *, for_update: bool = False) -> License | None:
        return self._db.licenses.get((tenant_id, license_id))

    async def for_account(self, tenant_id: str, account_id: str) -> License | None:
        return (await self.for_accounts([(tenant_id, account_id)])).get((tenant_id, account_id))

    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, License]:
        wanted = set(keys)  # the latest created wins, as DISTINCT ON … created_at DESC
        return {
            (lic.tenant_id, lic.account_id): lic
            for lic in self._db.licenses.values()
            if (lic.tenant_id, lic.account_id) in wanted
        }


class FakeSeats:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def users(self, tenant_id: str, license_id: str) -> list[str]:
        return sorted(self._db.seats.get((tenant_id, license_id), {}))

    async def assign(self, license: License, user_id: str, at: datetime) -> bool:
        held = self._db.seats.setdefault((license.tenant_id, license.id), {})
        if user_id in held:
            return False
        held[user_id] = at
        return True

    async def unassign(self, tenant_id: str, license_id: str, user_ids: Sequence[str]) -> int:
        held = self._db.seats.get((tenant_id, license_id), {})
        return sum(1 for u in user_ids if held.pop(u, None) is not None)

    async def reassign(self, license: License, user_ids: Sequence[str], at: datetime) -> None:
        for user_id in user_ids:
            await self.assign(license, user_id, at)


class FakeGrants:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def add_many(self, grants: Sequence[GrantBenefit]) -> list[str]:
        new = [g for g in grants if g.grant_id not in self._db.grants]
        for g in new:
            self._db.grants[g.grant_id] = GrantRecord(
                g.grant_id, g.tenant_id, g.account_id, g.feature_key, g.kind, g.value, g.source,
                g.starts_at, g.expires_at, g.actor, g.reason,
            )  # fmt: skip
        return [g.grant_id for g in new]

    async def get(self, tenant_id: str, grant_id: str) -> GrantRecord | None:
        grant = self._db.grants.get(grant_id)
        return grant if grant is not None and grant.tenant_id == tenant_id else None

    async def end(self, tenant_id: str, grant_id: str, at: datetime) -> None:
        self._db.grants[grant_id] = replace(self._db.grants[grant_id], expires_at=at)

    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, list[Grant]]:
        found: dict[AccountKey, list[Grant]] = {k: [] for k in keys}
        for g in sorted(self._db.grants.values(), key=lambda g: (g.starts_at, g.id)):
            if (g.tenant_id, g.account_id) in found:
                found[(g.tenant_id, g.account_id)].append(
                    Grant(g.id, g.feature_key, g.kind, g.value, g.source, g.starts_at, g.expires_at)
                )
        return found

    async def claim_expired(self, now: datetime, limit: int) -> list[GrantRecord]:
        due = [
            g
            for g in self._db.grants.values()
            if g.id not in self._db.grants_announced and g.expires_at is not None and g.expires_at <= now
        ]
        due = sorted(due, key=lambda g: g.expires_at or now)[:limit]
        self._db.grants_announced |= {g.id for g in due}
        return due


class FakeTrials:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def add(self, trial: Trial) -> None:
        self._db.trials[trial.id] = trial

    async def get(self, tenant_id: str, trial_id: str, *, for_update: bool = False) -> Trial | None:
        trial = self._db.trials.get(trial_id)
        return trial if trial is not None and trial.tenant_id == tenant_id else None

    async def past_targets(self, tenant_id: str, account_id: str) -> list[tuple[str, str]]:
        mine = [t for t in self._db.trials.values() if (t.tenant_id, t.account_id) == (tenant_id, account_id)]
        return [(t.target_kind, t.target_key) for t in mine]

    async def running_features(self, tenant_id: str, license_id: str) -> list[frozenset[str]]:
        return [
            frozenset(t.features)
            for t in self._running()
            if (t.tenant_id, t.license_id) == (tenant_id, license_id)
        ]

    async def finish(self, tenant_id: str, trial_id: str, status: str, at: datetime) -> None:
        self._db.trials[trial_id] = replace(self._db.trials[trial_id], status=status, ended_at=at)

    async def claim_due(self, now: datetime, limit: int) -> list[Trial]:
        return sorted((t for t in self._running() if t.ends_at <= now), key=lambda t: t.ends_at)[:limit]

    async def claim_ending_soon(self, now: datetime, default_days: int, limit: int) -> list[Trial]:
        def lead(t: Trial) -> timedelta:
            policy = self._db.policies.get(t.tenant_id)
            return timedelta(days=policy.trial_ending_soon_days if policy else default_days)

        due = [
            t
            for t in self._running()
            if t.id not in self._db.trials_announced and t.ends_at > now >= t.ends_at - lead(t) > t.started_at
        ]
        due = sorted(due, key=lambda t: t.ends_at)[:limit]
        self._db.trials_announced |= {t.id for t in due}
        return due

    def _running(self) -> list[Trial]:
        return [t for t in self._db.trials.values() if t.status == "active"]


class FakePolicies:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def get(self, tenant_id: str) -> LifecyclePolicy:
        return self._db.policies.get(tenant_id) or LifecyclePolicy()

    async def get_many(self, tenant_ids: Iterable[str]) -> dict[str, LifecyclePolicy]:
        return {t: await self.get(t) for t in sorted(set(tenant_ids))}

    async def save(self, tenant_id: str, policy: LifecyclePolicy) -> None:
        self._db.policies[tenant_id] = policy


class FakeHistory:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def append(self, entries: Sequence[HistoryEntry]) -> None:
        self._db.history.extend(entries)
