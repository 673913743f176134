"""Customer-success signals: which plan or add-on fits observed usage, and usage declines.

Pure functions; the handlers feed them counters, rollups and the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tangible_entitlements.domain.entitlement import Entitlement, evaluate
from tangible_entitlements.domain.model import CatalogItem, Feature, FeatureKind, License
from tangible_entitlements.domain.reports import Granularity, bucket_start

Lookup = Callable[[str, int], CatalogItem | None]  # (key, version) → catalog item
MarkKey = tuple[str, str, str, str]  # tenant, account, signal, evidence key: a piece of evidence, marked once


@dataclass(frozen=True)
class PeriodUsage:
    usage: float
    limit: float | None
    period_start: datetime
    period_end: datetime | None


def near_limit(periods: Sequence[PeriodUsage], percent: float) -> bool:
    """Every one of these (consecutive) periods used at least `percent` of its limit."""
    return bool(periods) and all(
        p.limit is not None and p.limit > 0 and p.usage >= p.limit * percent / 100 for p in periods
    )


def _entitlements(
    license: License,
    plan: CatalogItem | None,
    addons: list[CatalogItem],
    features: Sequence[Feature],
    usage: Mapping[str, float],
    at: datetime,
) -> dict[str, Entitlement]:
    """What plan + add-ons alone give (grants are time-bound, trials not bought: both left out)."""
    return {
        f.key: evaluate(
            f, license=license, plan=plan, addons=addons, grants=[], usage=usage.get(f.key, 0.0), at=at
        )
        for f in features
    }


def _fits(
    now: Mapping[str, Entitlement],
    after: Mapping[str, Entitlement],
    needs: Mapping[str, float],
    usage: Mapping[str, float],
    percent: float,
) -> bool:
    for key, current in now.items():  # nothing the account has now may be lost or shrink under use
        new = after[key]
        if not current.sources:
            continue
        if not new.sources:
            return False
        shrinks = new.limit is not None and (current.limit is None or new.limit < current.limit)
        if shrinks and new.limit is not None and usage.get(key, 0.0) > new.limit:
            return False
    for key, need in needs.items():  # and the evidence gets room: under the near-limit mark
        new = after[key]
        if not new.sources:
            return False
        if new.limit is not None and new.kind is FeatureKind.SEATS and need >= new.limit:
            return False
        if new.limit is not None and new.kind is not FeatureKind.SEATS and need >= new.limit * percent / 100:
            return False
    return True


def cheapest_fit(
    license: License,
    *,
    item: Lookup,
    candidates: Sequence[CatalogItem],
    features: Sequence[Feature],
    usage: Mapping[str, float],
    needs: Mapping[str, float],
    percent: float,
    at: datetime,
) -> CatalogItem | None:
    """The published plan (instead of the current one) or add-on (on top) with the lowest
    resulting price that gives the evidence features room and takes nothing away.

    `usage`: current use per metered feature (and assigned seats); `needs`: the observed
    peak of each evidence feature.
    """
    plan = item(license.plan_key, license.plan_version)
    addons = [a for k, v in license.addons.items() if (a := item(k, v)) is not None]
    base = (plan.price if plan else 0.0) + sum(a.price for a in addons)
    now = _entitlements(license, plan, addons, features, usage, at)
    best: tuple[float, str, str, CatalogItem] | None = None
    for candidate in candidates:
        if candidate.kind == "plan":
            if candidate.key == license.plan_key:
                continue
            cost = base - (plan.price if plan else 0.0) + candidate.price
            after = _entitlements(license, candidate, addons, features, usage, at)
        else:
            if candidate.key in license.addons:
                continue
            cost = base + candidate.price
            after = _entitlements(license, plan, [*addons, candidate], features, usage, at)
        if _fits(now, after, needs, usage, percent):
            option = (cost, candidate.kind, candidate.key, candidate)
            if best is None or option[:3] < best[:3]:
                best = option
    return best[3] if best else None


@dataclass(frozen=True)
class Decline:
    feature_key: str
    previous: float
    current: float
    percent: float


def risk_periods(today: date, period: str) -> tuple[date, date, date]:
    """(previous start, last complete period's start, its last day) as of `today`: the last
    period that is over, and the one before it."""
    granularity = Granularity(period)
    current_start = bucket_start(today, granularity)
    last_start = bucket_start(current_start - timedelta(days=1), granularity)
    previous_start = bucket_start(last_start - timedelta(days=1), granularity)
    return previous_start, last_start, current_start - timedelta(days=1)


def declines(
    totals: Mapping[str, tuple[float, float]], *, percent: float, min_volume: float
) -> list[Decline]:
    """Key features whose usage fell by at least `percent` from one period to the next.

    The noise rule: a feature whose earlier period is below `min_volume` never counts (a
    drop from 3 to 1 is noise, not a trend), and neither does a feature that grew.
    """
    found = []
    for key, (previous, current) in sorted(totals.items()):
        if previous <= 0 or previous < min_volume:
            continue
        fall = (previous - current) / previous * 100
        if fall >= percent:
            found.append(Decline(key, previous, current, round(fall, 1)))
    return found


@dataclass(frozen=True)
class Suggestion:
    """An upgrade suggestion as emitted (`upgrade_suggested`), and when."""

    suggested_at: datetime
    license_id: str | None
    kind: str  # plan or addon
    key: str
    payload: Mapping[str, Any]


def open_suggestions(
    suggestions: Sequence[Suggestion], upgraded_at: Mapping[str, datetime], license: License | None
) -> list[Suggestion]:
    """Open: made for the account's current license after its last plan change (or add-on,
    or trial conversion), for something it does not have yet; the latest per plan or add-on
    suggested, newest first. A plan change supersedes every suggestion made before it, since
    the evidence was weighed against limits the account no longer has."""
    if license is None:
        return []
    in_force = {("plan", license.plan_key), *(("addon", key) for key in license.addons)}
    if license.pending_plan_key is not None:
        in_force.add(("plan", license.pending_plan_key))
    since = upgraded_at.get(license.id)
    latest: dict[tuple[str, str], Suggestion] = {}
    for s in sorted(suggestions, key=lambda s: s.suggested_at, reverse=True):
        if s.license_id not in (None, license.id) or (since is not None and s.suggested_at <= since):
            continue
        if (s.kind, s.key) not in in_force:
            latest.setdefault((s.kind, s.key), s)
    return list(latest.values())
