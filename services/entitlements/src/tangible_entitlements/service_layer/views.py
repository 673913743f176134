"""Read side from the database: as-of checks, usage and impact reports, seat allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from tangible_entitlements.domain import licensing, reports, signals
from tangible_entitlements.domain.errors import LicenseNotFound
from tangible_entitlements.domain.metering import CounterKey
from tangible_entitlements.domain.model import Feature, FeatureKind, License
from tangible_entitlements.domain.periods import period_bounds
from tangible_entitlements.service_layer.checks import CheckResult, check
from tangible_entitlements.service_layer.cohorts import CohortDistributions, CohortKey
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.resolver import EntitlementResolver


async def _license_at(
    uow: UnitOfWork, tenant_id: str, account_id: str, at: datetime, now: datetime
) -> License:
    """The current license, or for a past `at` the license as its history says it was."""
    license: License | None
    if at >= now:
        license = await uow.licenses.for_account(tenant_id, account_id)
    else:
        state = await uow.history.state_at(tenant_id, account_id, at)
        license = (
            licensing.from_snapshot({k: v for k, v in state.items() if k != "assigned_users"})
            if state
            else None
        )
    if license is None:
        raise LicenseNotFound(
            f"account '{account_id}' has no license" + (" at that time" if at < now else "")
        )
    return license


async def check_entitlements(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    account_id: str,
    at: datetime,
    now: datetime,
    feature_key: str | None = None,
) -> list[CheckResult]:
    """The database path of a check: as-of reads of past moments."""
    async with uow:
        license = await _license_at(uow, tenant_id, account_id, at, now)
        features = await uow.catalog.features([tenant_id])
        resolver = await EntitlementResolver.load(uow, [license], features)
        tenant_features = features.get(tenant_id, [])
        keys = []
        for feature in tenant_features:
            if feature.meter is not None and (feature_key is None or feature.key == feature_key):
                start, _ = period_bounds(feature.meter.reset_period, at, license.timezone)
                keys.append((feature.key, start))
        values = await uow.counters.values([CounterKey(tenant_id, account_id, f, s) for f, s in keys])
        seats = len(await uow.seats.users(tenant_id, license.id))
    return check(
        resolver,
        license,
        tenant_features,
        at=at,
        feature_key=feature_key,
        counter=lambda f, s: values.get(CounterKey(tenant_id, account_id, f.key, s), 0.0),
        seats_assigned=seats,
    )


async def usage_report(
    uow: UnitOfWork,
    cohorts: CohortDistributions,
    *,
    tenant_id: str,
    account_id: str,
    start: date,
    end: date,
    granularity: reports.Granularity,
    now: datetime,
) -> dict[str, Any]:
    """Per metered feature: series and total from the daily rollup, with the impact that the
    benefit mapping turns them into; plus the benefits in force now and their sources."""
    async with uow:
        license = await uow.licenses.for_account(tenant_id, account_id)
        if license is None:
            raise LicenseNotFound(f"account '{account_id}' has no license")
        features = await uow.catalog.features([tenant_id])
        resolver = await EntitlementResolver.load(uow, [license], features)
        days = await uow.counters.days(tenant_id, account_id, start, end)
        ranks = await _cohorts(uow, cohorts, license, features.get(tenant_id, []), days, start, end, now)
    zone = ZoneInfo(license.timezone)
    in_force = check(
        resolver,
        license,
        features.get(tenant_id, []),
        at=now,
        feature_key=None,
        counter=lambda f, s: 0.0,
        seats_assigned=0,
    )
    accessible = {r.entitlement.feature_key: r for r in in_force if r.entitlement.has_access}
    feature_rows: list[dict[str, Any]] = []
    impact: dict[str, float] = {}
    for feature in features.get(tenant_id, []):
        if feature.kind is not FeatureKind.METERED or feature.meter is None:
            continue
        used = days.get(feature.key, {})
        if not used and feature.key not in accessible:
            continue
        aggregation = feature.meter.aggregation
        total = reports.total(used, aggregation, start, end)
        feature_impact = None
        if feature.impact_metric and feature.impact_per_unit is not None:
            value = total * feature.impact_per_unit
            feature_impact = {
                "metric": feature.impact_metric,
                "per_unit": feature.impact_per_unit,
                "value": value,
            }
            impact[feature.impact_metric] = impact.get(feature.impact_metric, 0.0) + value
        feature_rows.append(
            {
                "feature_key": feature.key,
                "name": feature.name,
                "outcome": feature.outcome,
                "total": total,
                "series": [
                    {"period_start": datetime.combine(bucket, time(), zone), "value": value}
                    for bucket, value in reports.series(used, aggregation, start, end, granularity)
                ],
                "impact": feature_impact,
                "cohort": ranks.get(feature.key),
            }
        )
    by_key = {f.key: f for f in features.get(tenant_id, [])}
    return {
        "account_id": account_id,
        "from": start,
        "to": end,
        "granularity": granularity.value,
        "features": feature_rows,
        "impact": [{"metric": m, "value": v} for m, v in sorted(impact.items())],
        "benefits_in_force": [
            {
                "feature_key": key,
                "name": by_key[key].name,
                "outcome": by_key[key].outcome,
                "sources": [
                    {"kind": s.kind, "key": s.key, "version": s.version, "expires_at": s.expires_at}
                    for s in result.entitlement.sources
                ],
            }
            for key, result in accessible.items()
        ],
    }


async def _cohorts(
    uow: UnitOfWork,
    cohorts: CohortDistributions,
    license: License,
    features: list[Feature],
    days: dict[str, dict[date, float]],
    start: date,
    end: date,
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """Per key feature, the account's percentile among the accounts on its plan over the same
    days; withheld (absent) below the minimum cohort size, and for an account without access
    (it is in no cohort). Only the rank leaves this function."""
    if not license.status.grants_access:
        return {}
    policy = await uow.policies.get(license.tenant_id)
    found: dict[str, dict[str, Any]] = {}
    plan_name: str | None = None  # read once, and only when a percentile is shown
    for feature in policy.key(features):
        assert feature.meter is not None
        aggregation = feature.meter.aggregation
        key = CohortKey(license.tenant_id, license.plan_key, feature.key, aggregation, start, end)
        distribution = await cohorts.get(
            key,
            now,
            partial(
                uow.reports.cohort_distribution,
                license.tenant_id,
                license.plan_key,
                feature.key,
                aggregation,
                start,
                end,
            ),
        )
        if len(distribution) >= policy.cohort_min_size:
            if plan_name is None:
                plan = await uow.catalog.item(license.tenant_id, license.plan_key, license.plan_version)
                plan_name = plan.name if plan is not None else license.plan_key
            mine = reports.total(days.get(feature.key, {}), aggregation, start, end)
            found[feature.key] = {
                "plan_key": license.plan_key,
                "plan_name": plan_name,
                "percentile": distribution.percentile_rank(mine),
                "minimum_cohort_size": policy.cohort_min_size,
            }
    return found


@dataclass(frozen=True)
class Allocation:
    license_id: str
    purchased: int
    assigned: int
    active: int
    idle: int
    users: list[tuple[str, datetime | None, bool]]


async def seat_allocation(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, now: datetime, active_days: int
) -> Allocation:
    async with uow:
        license = await uow.licenses.for_account(tenant_id, account_id)
        if license is None:
            raise LicenseNotFound(f"account '{account_id}' has no license")
        users = await uow.seats.allocation(
            tenant_id, license.id, account_id, now - timedelta(days=active_days)
        )
    active = sum(1 for _, _, is_active in users if is_active)
    return Allocation(license.id, license.seats, len(users), active, len(users) - active, users)


async def upgrade_suggestions(
    uow: UnitOfWork, *, tenant_id: str, account_id: str
) -> list[signals.Suggestion]:
    """The account's open upgrade suggestions (see `signals.open_suggestions`)."""
    async with uow:
        license = await uow.licenses.for_account(tenant_id, account_id)
        marks = await uow.signals.upgrade_suggestions(tenant_id, account_id)
        upgraded_at = await uow.signals.last_upgrades(tenant_id, account_id)
    suggestions = [
        signals.Suggestion(
            at, payload.get("license_id"), payload["suggestion_kind"], payload["suggestion_key"], payload
        )
        for at, payload in marks
    ]
    return signals.open_suggestions(suggestions, upgraded_at, license)
