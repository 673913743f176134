"""Customer-success signals, found by the scheduler: upgrade suggestions and renewals at risk.

Each piece of evidence (a feature's consecutive periods near its limit, a period over a soft
limit, a full set of seats, a period's decline before a renewal) is marked once in
`signal_marks`, in the transaction that writes the event: never repeated for the same
evidence, and replicas racing on it emit it once. Evidence that leads nowhere (nothing in
the catalog fits, no decline) is marked too, so that it is not weighed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal

from tangible_entitlements.domain import signals, trials
from tangible_entitlements.domain.metering import CounterKey
from tangible_entitlements.domain.model import Feature, FeatureKind, License
from tangible_entitlements.domain.periods import period_bounds
from tangible_entitlements.domain.signals import MarkKey
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.reads import FullSeats, PeriodCounter
from tangible_entitlements.service_layer.resolver import EntitlementResolver
from tangible_runtime.domain import Clock
from tangible_schemas import EventData
from tangible_schemas.entitlements import Evidence

Reason = Literal["near_limit", "seats_full", "soft_limit_exceeded"]


@dataclass
class _Finding:
    key: MarkKey
    reason: Reason
    feature_key: str | None = None
    counter: PeriodCounter | None = None
    seats: FullSeats | None = None
    evidence: list[Evidence] = field(default_factory=list)
    needs: dict[str, float] = field(default_factory=dict)


def _findings(counters: Sequence[PeriodCounter], seats: Sequence[FullSeats]) -> list[_Finding]:
    found = []
    for c in counters:
        base = f"{c.feature_key}:{c.period_start.isoformat()}"
        found.append(
            _Finding(
                (c.tenant_id, c.account_id, "upgrade", f"near_limit:{base}"), "near_limit", c.feature_key, c
            )
        )
        if c.overage > 0:
            key = (c.tenant_id, c.account_id, "upgrade", f"soft_limit_exceeded:{base}")
            found.append(_Finding(key, "soft_limit_exceeded", c.feature_key, c))
    for s in seats:
        key = (s.tenant_id, s.account_id, "upgrade", f"seats_full:{s.license_id}:{s.seats}")
        found.append(_Finding(key, "seats_full", seats=s))
    return found


async def _history(
    uow: UnitOfWork, findings: list[_Finding], periods: int
) -> dict[MarkKey, list[PeriodCounter]]:
    """For each near-limit counter, the counters of the periods just before it (newest first)."""
    chains: dict[MarkKey, list[PeriodCounter]] = {}
    current = {f.key: f.counter for f in findings if f.reason == "near_limit" and f.counter is not None}
    for _ in range(periods - 1):
        wanted = {k: (c.tenant_id, c.account_id, c.feature_key, c.period_start) for k, c in current.items()}
        found = await uow.signals.previous_periods(list(set(wanted.values())))
        current = {k: found[w] for k, w in wanted.items() if w in found}
        for k, row in current.items():
            chains.setdefault(k, []).append(row)
    return chains


def _period(counter: PeriodCounter, limit: float | None = None) -> signals.PeriodUsage:
    value_limit = limit if limit is not None else (counter.limit_value or None)
    return signals.PeriodUsage(counter.value, value_limit, counter.period_start, counter.period_end)


def _evidence(feature_key: str, p: signals.PeriodUsage, detail: str | None = None) -> Evidence:
    return Evidence(
        feature_key=feature_key,
        usage=p.usage,
        limit=p.limit,
        period_start=p.period_start,
        period_end=p.period_end,
        detail=detail,
    )


def _weigh(
    finding: _Finding,
    resolver: EntitlementResolver,
    features: list[Feature],
    chain: list[PeriodCounter],
    percent: float,
    periods: int,
    now: datetime,
) -> bool:
    """Is this evidence real now (with the limit in force now)? Fills evidence and needs."""
    tenant, account = finding.key[0], finding.key[1]
    if finding.seats is not None:
        seat_feature = next((f for f in features if f.kind is FeatureKind.SEATS), None)
        if seat_feature is None:
            return False
        assigned = float(finding.seats.assigned)
        finding.evidence = [
            Evidence(feature_key=seat_feature.key, usage=assigned, limit=float(finding.seats.seats))
        ]
        finding.needs = {seat_feature.key: assigned}
        return True
    counter = finding.counter
    feature = resolver.feature(tenant, finding.feature_key or "")
    if counter is None or feature is None:
        return False
    now_value = resolver.evaluate(tenant, account, feature, usage=float(counter.value), at=now)
    current = _period(counter, now_value.limit)
    if finding.reason == "soft_limit_exceeded":
        if now_value.hard or current.limit is None or current.usage <= current.limit:
            return False
        finding.evidence = [
            _evidence(feature.key, current, f"over the soft limit by {current.usage - current.limit:g}")
        ]
        finding.needs = {feature.key: current.usage}
        return True
    window = [_period(r) for r in reversed(chain)] + [current]
    if len(window) < periods or not signals.near_limit(window, percent):
        return False
    finding.evidence = [_evidence(feature.key, p) for p in window]
    finding.needs = {feature.key: max(p.usage for p in window)}
    return True


async def _usage_now(
    uow: UnitOfWork, licenses: list[License], features: dict[str, list[Feature]], now: datetime
) -> dict[tuple[str, str], dict[str, float]]:
    keys = []
    for license in licenses:
        for f in features.get(license.tenant_id, []):
            if f.kind is FeatureKind.METERED and f.meter is not None:
                start, _ = period_bounds(f.meter.reset_period, now, license.timezone)
                keys.append(CounterKey(license.tenant_id, license.account_id, f.key, start))
    values = await uow.counters.values(keys)
    usage: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in values.items():
        usage.setdefault((key.tenant_id, key.account_id), {})[key.feature_key] = value
    for license in licenses:
        seats = len(await uow.seats.users(license.tenant_id, license.id))
        for f in features.get(license.tenant_id, []):
            if f.kind is FeatureKind.SEATS:
                usage.setdefault((license.tenant_id, license.account_id), {})[f.key] = float(seats)
    return usage


async def suggest_upgrades(*, uow: UnitOfWork, clock: Clock, default_percent: float) -> int:
    """upgrade_suggested for fresh evidence, naming the cheapest plan or add-on that fits."""
    async with uow:
        now = clock.now()
        findings = _findings(
            await uow.signals.counters_near_limit(now, default_percent), await uow.signals.seats_full()
        )
        marked = await uow.signals.marked([f.key for f in findings])
        findings = [f for f in findings if f.key not in marked]
        if not findings:
            return 0
        tenants = {f.key[0] for f in findings}
        policies = await uow.policies.get_many(tenants)
        periods = max(p.upgrade_consecutive_periods for p in policies.values())
        chains = await _history(uow, findings, periods)
        licenses = await uow.licenses.for_accounts(sorted({(f.key[0], f.key[1]) for f in findings}))
        features = await uow.catalog.features(tenants)
        resolver = await EntitlementResolver.load(uow, licenses.values(), features)
        usage = await _usage_now(uow, list(licenses.values()), features, now)
        catalogs = {tenant: await uow.catalog.published_latest(tenant) for tenant in tenants}
        marks: list[tuple[MarkKey, dict[str, Any] | None]] = []
        events: dict[MarkKey, EventData] = {}
        for finding in findings:
            tenant, account = finding.key[0], finding.key[1]
            license, policy = licenses.get((tenant, account)), policies[tenant]
            percent = policy.upgrade_near_limit_percent
            real = (
                license is not None
                and license.status.grants_access
                and _weigh(
                    finding,
                    resolver,
                    features.get(tenant, []),
                    chains.get(finding.key, []),
                    percent,
                    policy.upgrade_consecutive_periods,
                    now,
                )
            )
            item = None
            if real and license is not None:
                item = signals.cheapest_fit(
                    trials.committed(license),
                    item=partial(resolver.item, tenant),
                    candidates=catalogs[tenant],
                    features=features.get(tenant, []),
                    usage=usage.get((tenant, account), {}),
                    needs=finding.needs,
                    percent=percent,
                    at=now,
                )
            if item is not None and license is not None:
                event: EventData = translate.upgrade_suggested(
                    license, item, finding.reason, finding.evidence
                )
                events[finding.key] = event
                marks.append((finding.key, event.model_dump(mode="json")))
            else:
                marks.append((finding.key, None))
        emitted = [events[key] for key in await uow.signals.mark(marks, now) if key in events]
        for event in emitted:
            uow.outbox.add(event)
        await uow.commit()
    return len(emitted)
