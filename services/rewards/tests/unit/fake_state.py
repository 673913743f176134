"""Evaluation state, rules and licenses in memory: the tables of the fake unit of work and their
repositories, with the SQL's semantics (unique keys, what each upsert keeps, filters and orders)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from services.rewards.tests.unit.fake_ledger import LedgerTables, Violation
from tangible_rewards.domain.adoption import Adoption
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.evaluation import CounterKey, DayKey, MemberKey
from tangible_rewards.domain.licenses import GRANTING, LicenseState
from tangible_rewards.domain.model import MilestoneRule
from tangible_rewards.domain.streaks import STREAK_PERIOD, StreakProgress
from tangible_rewards.service_layer.reads import GrantedReward, ItemRedemptionRecord, StoredOutcome
from tangible_schemas import EventData

Account = tuple[str, str]


@dataclass
class Tables:
    inbox: set[tuple[str, str]] = field(default_factory=set)
    heads: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)  # latest version, enabled
    rules: dict[tuple[str, str, int], MilestoneRule] = field(default_factory=dict)
    time_zones: dict[Account, str] = field(default_factory=dict)
    progress: dict[tuple[str, str, str, str], tuple[float, date | None]] = field(default_factory=dict)
    daily: dict[DayKey, float] = field(default_factory=dict)
    members: dict[MemberKey, datetime] = field(default_factory=dict)
    licenses: dict[tuple[str, str], LicenseState] = field(default_factory=dict)
    seats: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (tenant, license, user) → account
    rewards: dict[str, GrantedReward] = field(default_factory=dict)
    ledger: LedgerTables = field(default_factory=LedgerTables)
    idempotency: dict[tuple[str, str, str], tuple[str, datetime, StoredOutcome | None]] = field(
        default_factory=dict
    )
    catalog: dict[tuple[str, str], CatalogItem] = field(default_factory=dict)
    catalog_redemptions: list[ItemRedemptionRecord] = field(default_factory=list)
    events: list[EventData] = field(default_factory=list)


class FakeRuleRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def add_version(self, tenant_id: str, rule: MilestoneRule) -> None:
        if (tenant_id, rule.key, rule.version) in self._t.rules:
            raise Violation("milestone_rules primary key")
        self._t.rules[(tenant_id, rule.key, rule.version)] = rule
        _, enabled = self._t.heads.get((tenant_id, rule.key), (0, rule.enabled))
        self._t.heads[(tenant_id, rule.key)] = (rule.version, enabled)

    async def current(self, tenant_id: str, key: str, *, lock: bool = False) -> MilestoneRule | None:
        head = self._t.heads.get((tenant_id, key))
        return await self.version(tenant_id, key, head[0], enabled=head[1]) if head else None

    async def version(
        self, tenant_id: str, key: str, version: int, *, enabled: bool = True
    ) -> MilestoneRule | None:
        rule = self._t.rules.get((tenant_id, key, version))
        return replace(rule, enabled=enabled) if rule else None

    async def versions(
        self, tenant_id: str, key: str, *, limit: int, offset: int
    ) -> tuple[list[MilestoneRule], int]:
        enabled = self._t.heads.get((tenant_id, key), (0, False))[1]
        found = [r for (t, k, _), r in self._t.rules.items() if (t, k) == (tenant_id, key)]
        newest_first = sorted(found, key=lambda r: -r.version)
        return [replace(r, enabled=enabled) for r in newest_first[offset : offset + limit]], len(found)

    async def set_enabled(self, tenant_id: str, key: str, enabled: bool) -> bool:
        head = self._t.heads.get((tenant_id, key))
        if head is not None:
            self._t.heads[(tenant_id, key)] = (head[0], enabled)
        return head is not None

    async def page(
        self, tenant_id: str, *, enabled: bool | None, limit: int, offset: int
    ) -> tuple[list[MilestoneRule], int]:
        keys = sorted(
            k for (t, k), (_, on) in self._t.heads.items() if t == tenant_id and enabled in (None, on)
        )
        rules = [await self.current(tenant_id, k) for k in keys[offset : offset + limit]]
        return [r for r in rules if r is not None], len(keys)

    async def enabled_for(self, tenant_ids: Iterable[str]) -> dict[str, list[MilestoneRule]]:
        wanted = set(tenant_ids)
        result: dict[str, list[MilestoneRule]] = {}
        for tenant, key in sorted(self._t.heads):
            version, enabled = self._t.heads[(tenant, key)]
            if tenant in wanted and enabled:
                result.setdefault(tenant, []).append(self._t.rules[(tenant, key, version)])
        return result


class FakeProfileRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def set_time_zone(self, tenant_id: str, account_id: str, time_zone: str) -> None:
        self._t.time_zones[(tenant_id, account_id)] = time_zone

    async def time_zones(self, pairs: Iterable[Account]) -> dict[Account, str]:
        return {p: self._t.time_zones[p] for p in set(pairs) if p in self._t.time_zones}


class FakeProgressRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def add_counters(self, increments: Mapping[CounterKey, float]) -> dict[CounterKey, float]:
        for k, amount in increments.items():
            row = (k.tenant_id, k.account_id, k.series, k.period_key)
            value, alive_until = self._t.progress.get(row, (0.0, None))
            self._t.progress[row] = (value + amount, alive_until)
        return {
            k: self._t.progress[(k.tenant_id, k.account_id, k.series, k.period_key)][0] for k in increments
        }

    async def set_streaks(self, rows: Sequence[StreakProgress]) -> None:
        for r in rows:
            self._t.progress[(r.tenant_id, r.account_id, r.series, STREAK_PERIOD)] = (
                float(r.value),
                r.alive_until,
            )

    async def for_account(
        self, tenant_id: str, account_id: str
    ) -> dict[tuple[str, str], tuple[float, date | None]]:
        return {
            (s, p): v for (t, a, s, p), v in self._t.progress.items() if (t, a) == (tenant_id, account_id)
        }

    async def streaks_past(self, day: date, limit: int) -> list[StreakProgress]:
        live = [
            StreakProgress(t, a, s, int(value), alive_until)
            for (t, a, s, p), (value, alive_until) in self._t.progress.items()
            if p == STREAK_PERIOD and value > 0 and alive_until is not None and alive_until < day
        ]
        return sorted(live, key=lambda r: r.alive_until or day)[:limit]


class FakeActivityRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def add_days(self, days: Mapping[DayKey, float]) -> set[DayKey]:
        new = {k for k in days if k not in self._t.daily}
        for k, quantity in days.items():
            self._t.daily[k] = self._t.daily.get(k, 0.0) + quantity
        return new

    async def days(
        self, keys: Iterable[tuple[str, str, str]], since: date
    ) -> dict[tuple[str, str, str], dict[date, float]]:
        result: dict[tuple[str, str, str], dict[date, float]] = {k: {} for k in sorted(set(keys))}
        for d, quantity in self._t.daily.items():
            key = (d.tenant_id, d.account_id, d.activity_key)
            if key in result and d.day >= since and quantity > 0:
                result[key][d.day] = quantity
        return result

    async def touch_members(self, members: Mapping[MemberKey, datetime]) -> None:
        for k, seen in members.items():
            self._t.members[k] = max(seen, self._t.members.get(k, seen))

    async def adoption(
        self, accounts: Iterable[Account], activity_key: str, active_after: datetime
    ) -> dict[Account, Adoption]:
        result: dict[Account, Adoption] = {}
        for tenant, account in sorted(set(accounts)):
            users = {u for (t, _, u), a in self._t.seats.items() if (t, a) == (tenant, account)}
            seen = [self._t.members.get(MemberKey(tenant, account, activity_key, u)) for u in users]
            result[(tenant, account)] = Adoption(len(users), sum(1 for s in seen if s and s > active_after))
        return result


class FakeLicenseRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], LicenseState]:
        return {k: self._t.licenses[k] for k in set(keys) if k in self._t.licenses}

    async def upsert(self, states: Sequence[LicenseState]) -> None:
        for s in states:
            old = self._t.licenses.get((s.tenant_id, s.license_id))
            # on conflict the row keeps its account and first start (as the SQL's SET list does)
            kept = replace(s, account_id=old.account_id, started_on=old.started_on) if old else s
            self._t.licenses[(s.tenant_id, s.license_id)] = kept

    async def for_accounts(self, accounts: Iterable[Account]) -> dict[Account, list[LicenseState]]:
        result: dict[Account, list[LicenseState]] = {p: [] for p in sorted(set(accounts))}
        for s in sorted(self._t.licenses.values(), key=lambda s: s.started_on):
            result.get((s.tenant_id, s.account_id), []).append(s)
        return result

    async def assign_seats(self, seats: Sequence[tuple[str, str, str, str]]) -> None:
        for tenant, account, license_id, user in seats:
            self._t.seats.setdefault((tenant, license_id, user), account)

    async def unassign_seats(self, seats: Sequence[tuple[str, str, str]]) -> None:
        for seat in seats:
            self._t.seats.pop(seat, None)

    async def anniversaries_due(
        self, latest_day: date, after: tuple[str, str], limit: int
    ) -> list[LicenseState]:
        due = [
            s
            for key, s in sorted(self._t.licenses.items())
            if s.status in GRANTING and key > after
            if _plus_years(s.continuous_since, s.years_seen + 1) <= latest_day
        ]
        return due[:limit]

    async def rewind_anniversaries(self, tenant_id: str) -> None:
        for key, s in self._t.licenses.items():
            if s.tenant_id == tenant_id:
                self._t.licenses[key] = replace(s, years_seen=0)


def _plus_years(day: date, years: int) -> date:
    """PostgreSQL's date + interval: 29 February falls on 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
