"""Read side: progress toward each enabled milestone, balances, history, rewards, rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tangible_rewards.domain.adoption import Adoption
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.evaluation import ZoneOf
from tangible_rewards.domain.ledger import ZERO
from tangible_rewards.domain.licenses import GRANTING, LicenseState, time_to_value, ttv_qualifying
from tangible_rewards.domain.model import (
    AdoptionParams,
    AnniversaryParams,
    MilestoneRule,
    Repeat,
    StreakParams,
    ThresholdParams,
    TimeToValueParams,
)
from tangible_rewards.domain.periods import (
    LIFETIME,
    Period,
    add_years,
    completed_years,
    local_date,
    period_key,
)
from tangible_rewards.domain.progress import Progress
from tangible_rewards.domain.streaks import STREAK_PERIOD
from tangible_rewards.domain.streaks import target as streak_target
from tangible_rewards.service_layer.policy import Policy, zones_for
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_rewards.service_layer.reads import ExpiryBucket, GrantedReward, HistoryEntry


@dataclass
class AccountFacts:
    """Everything progress needs about one account, read in a handful of queries."""

    today: date
    now: datetime
    values: dict[tuple[str, str], tuple[float, date | None]]
    rewarded: set[tuple[str, str]]
    licenses: list[LicenseState]
    adoption: dict[tuple[str, int], Adoption]
    usage_days: dict[str, dict[date, float]]


async def account_progress(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, now: datetime, policy: Policy
) -> list[Progress]:
    progress, _ = await account_progress_until(
        uow, tenant_id=tenant_id, account_id=account_id, now=now, policy=policy
    )
    return progress


async def account_progress_until(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, now: datetime, policy: Policy
) -> tuple[list[Progress], datetime | None]:
    """The progress, and the moment before which it cannot change but by a write (or a new
    local day, which callers bound separately): an active seat holder leaving an adoption
    window."""
    async with uow:
        rules = (await uow.rules.enabled_for([tenant_id])).get(tenant_id, [])
        zone_of: ZoneOf = await zones_for(uow, [(tenant_id, account_id)], policy)
        account = (tenant_id, account_id)
        licenses = (await uow.licenses.for_accounts([account]))[account]
        adoption = {}
        for rule in rules:
            if isinstance(rule.params, AdoptionParams):
                measure = (rule.params.usage_type, rule.params.window_days)
                if measure not in adoption:
                    cutoff = now - timedelta(days=measure[1])
                    adoption[measure] = (await uow.activity.adoption([account], measure[0], cutoff))[account]
        ttv_types = {r.params.usage_type for r in rules if isinstance(r.params, TimeToValueParams)}
        since = max((s.started_on for s in licenses), default=None)
        days = (
            await uow.activity.days({(tenant_id, account_id, t) for t in ttv_types}, since) if since else {}
        )
        facts = AccountFacts(
            today=local_date(now, zone_of(tenant_id, account_id)),
            now=now,
            values=await uow.progress.for_account(tenant_id, account_id),
            rewarded=await uow.rewards.existing(tenant_id, account_id),
            licenses=licenses,
            adoption=adoption,
            usage_days={key[2]: d for key, d in days.items()},
        )
    leaving = [
        a.oldest_active + timedelta(days=window)
        for (_, window), a in adoption.items()
        if a.oldest_active is not None
    ]
    return [progress_of(rule, facts) for rule in sorted(rules, key=lambda r: r.key)], min(
        leaving, default=None
    )


def progress_of(rule: MilestoneRule, facts: AccountFacts) -> Progress:
    params, today = rule.params, facts.today

    def rewarded(qualifying: str) -> bool:
        return (rule.key, rule.reward_period(qualifying)) in facts.rewarded

    if isinstance(params, ThresholdParams):
        period = LIFETIME if params.window == LIFETIME else period_key(Period(params.window), today)
        current = facts.values.get((rule.series, period), (0.0, None))[0]
        return Progress(rule, current, params.target, rewarded(period), period_key=period)
    if isinstance(params, StreakParams):
        value, alive_until = facts.values.get((rule.series, STREAK_PERIOD), (0.0, None))
        current = value if alive_until is not None and alive_until >= today else 0.0
        target = streak_target(params)
        qualifying = rule.qualifying_for(today, today.isoformat())
        return Progress(
            rule, current, float(target), rewarded(qualifying), period_key=rule.reward_period(qualifying)
        )
    if isinstance(params, AdoptionParams):
        adoption = facts.adoption[(params.usage_type, params.window_days)]
        qualifying = rule.qualifying_for(today, today.isoformat())
        return Progress(
            rule,
            float(adoption.active),
            float(adoption.needed(params)),
            rewarded(qualifying),
            period_key=rule.reward_period(qualifying),
        )
    if isinstance(params, AnniversaryParams):
        return _anniversary(rule, params, facts, rewarded)
    assert isinstance(params, TimeToValueParams)
    if not facts.licenses:
        return Progress(rule, 0.0, params.target)
    latest = max(facts.licenses, key=lambda s: s.started_on)
    ttv = time_to_value(latest, params, facts.usage_days.get(params.usage_type, {}))
    qualifying = ttv_qualifying(latest)
    return Progress(
        rule,
        ttv.current,
        params.target,
        rewarded(qualifying),
        missed=today >= ttv.deadline,
        period_key=rule.reward_period(qualifying),
    )


def _anniversary(
    rule: MilestoneRule, params: AnniversaryParams, facts: AccountFacts, rewarded: Callable[[str], bool]
) -> Progress:
    granting = [s for s in facts.licenses if s.status in GRANTING]
    since = min((s.continuous_since for s in granting), default=facts.today)
    years = completed_years(since, facts.today)
    once = rule.repeat is Repeat.ONCE
    goal = params.years if once else max(params.years, years + 1)
    done = once and rewarded(f"year-{params.years}")
    target_days = (add_years(since, goal) - since).days
    current = float((facts.today - since).days)
    return Progress(
        rule,
        min(current, target_days),
        float(target_days),
        done,
        unit="days",
        period_key=LIFETIME if once else f"year-{goal}",
    )


async def balance(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, unit: str, now: datetime
) -> tuple[Decimal, list[ExpiryBucket]]:
    async with uow:
        buckets = await uow.ledger_reads.spendable(tenant_id, account_id, unit, now)
    return sum((b.amount for b in buckets), ZERO), buckets


async def history(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, unit: str, limit: int, offset: int
) -> tuple[list[HistoryEntry], int]:
    async with uow:
        return await uow.ledger_reads.history(tenant_id, account_id, unit, limit=limit, offset=offset)


async def rewards_earned(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, limit: int, offset: int
) -> tuple[list[GrantedReward], int]:
    async with uow:
        return await uow.rewards.page(tenant_id, account_id, limit=limit, offset=offset)


async def rules_page(
    uow: UnitOfWork, *, tenant_id: str, enabled: bool | None, limit: int, offset: int
) -> tuple[list[MilestoneRule], int]:
    async with uow:
        return await uow.rules.page(tenant_id, enabled=enabled, limit=limit, offset=offset)


async def rule(
    uow: UnitOfWork, *, tenant_id: str, key: str, version: int | None = None
) -> MilestoneRule | None:
    async with uow:
        if version is None:
            return await uow.rules.current(tenant_id, key)
        return await uow.rules.version(tenant_id, key, version)


async def rule_versions(
    uow: UnitOfWork, *, tenant_id: str, key: str, limit: int, offset: int
) -> tuple[list[MilestoneRule], int]:
    async with uow:
        return await uow.rules.versions(tenant_id, key, limit=limit, offset=offset)


async def catalog_page(
    uow: UnitOfWork, *, tenant_id: str, active_at: datetime | None, limit: int, offset: int
) -> tuple[list[CatalogItem], int]:
    async with uow:
        return await uow.catalog.page(tenant_id, active_at=active_at, limit=limit, offset=offset)


async def catalog_item(uow: UnitOfWork, *, tenant_id: str, key: str) -> CatalogItem | None:
    async with uow:
        return await uow.catalog.get(tenant_id, key)
