"""Metering: which counters, daily rollups and activity a batch of usage moves."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tangible_entitlements.domain.model import Aggregation, Feature, FeatureKind, License
from tangible_entitlements.domain.periods import period_of_day


@dataclass(frozen=True)
class Usage:
    event_id: str
    tenant_id: str
    account_id: str
    usage_type: str
    occurred_at: datetime
    quantity: float
    user_id: str | None
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class CounterKey:
    tenant_id: str
    account_id: str
    feature_key: str
    period_start: datetime


@dataclass(frozen=True)
class DayKey:
    tenant_id: str
    account_id: str
    feature_key: str
    day: date


@dataclass
class Delta:
    """A folded amount; `unique_values` maps each value to the local day it was first seen."""

    aggregation: Aggregation
    amount: float
    last_event_at: datetime
    unique_values: dict[str, date] = field(default_factory=dict)


@dataclass
class CounterDelta(Delta):
    key: CounterKey = field(kw_only=True)
    period_end: datetime | None = field(kw_only=True)


@dataclass
class DayDelta(Delta):
    key: DayKey = field(kw_only=True)


@dataclass(frozen=True)
class Unmetered:
    """Usage refused for a person to look at (the dead-letter topic)."""

    usage: Usage
    reason: str  # unknown_account | invalid_value


@dataclass
class Metered:
    """What one batch does: counter and day deltas, last activity per user, refusals, and
    how many events of each (tenant, type) no feature meters (normal traffic: counted and
    skipped, since a vendor sends more kinds of usage than it meters)."""

    counters: list[CounterDelta]
    days: list[DayDelta]
    activity: dict[tuple[str, str, str], datetime]
    unmetered: list[Unmetered]
    no_meter: dict[tuple[str, str], int] = field(default_factory=dict)


# The fields ingest lifts out of an event's data: a meter names them like any other field
# ("quantity" or "data.quantity"), but they travel beside the properties, not in them.
QUANTITY, USER_ID = "quantity", "user_id"
# Counters are designed for amounts up to ingest's quantity limit; a metered property beyond
# it is refused (invalid_value) rather than summed toward an infinite counter.
MAX_METERED_VALUE = 1e15
_NUMERIC = (Aggregation.SUM, Aggregation.MAX, Aggregation.LATEST)
_MISSING = object()


def value_path_problem(aggregation: Aggregation, path: str) -> str | None:
    """Why a meter's `value_path` could never resolve to a value it can fold, or None.

    Paths are dotted, with an optional `data.` prefix; `quantity` and `user_id` are the
    documented fields (a number, and a string when present), anything else a property."""
    parts = path.removeprefix("data.").split(".")
    if any(not part for part in parts) or "\x00" in path:
        return "value_path must be dotted names, such as data.pages or quantity"
    head, nested = parts[0], len(parts) > 1
    if head in (QUANTITY, USER_ID) and nested:
        return f"{head} has no fields"
    if head == USER_ID and aggregation in _NUMERIC:
        return f"user_id is text: {aggregation.value} needs a number (count or unique_count it)"
    return None


def _resolve(usage: Usage, path: str) -> Any:
    head, *rest = path.removeprefix("data.").split(".")
    current: Any
    if head == QUANTITY:
        current = usage.quantity
    elif head == USER_ID:
        current = usage.user_id
    else:
        current = usage.properties.get(head, _MISSING)
    for part in rest:
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _absent(usage: Usage, path: str | None) -> bool:
    current = _resolve(usage, path) if path else usage.quantity
    return current is _MISSING or current is None


def _value(usage: Usage, feature: Feature) -> float | str | None:
    assert feature.meter is not None
    path = feature.meter.value_path
    if feature.meter.aggregation is Aggregation.COUNT:
        return 1.0
    current = _resolve(usage, path) if path else usage.quantity
    if current is _MISSING or current is None:
        return None
    if feature.meter.aggregation is Aggregation.UNIQUE_COUNT:
        return None if isinstance(current, dict | list) else str(current)
    if isinstance(current, bool) or not isinstance(current, int | float):
        return None
    if not math.isfinite(current) or abs(current) > MAX_METERED_VALUE:
        return None
    return float(current)


def meter_usage(
    usages: Iterable[Usage],
    licenses: Mapping[tuple[str, str], License],
    features_by_tenant: Mapping[str, list[Feature]],
) -> Metered:
    """Fold a batch into one delta per counter and per day (set-based upserts need one row
    per key); a period or day comes from the event's own time in the license's time zone."""
    counters: dict[CounterKey, CounterDelta] = {}
    days: dict[DayKey, DayDelta] = {}
    activity: dict[tuple[str, str, str], datetime] = {}
    unmetered: list[Unmetered] = []
    no_meter: dict[tuple[str, str], int] = {}
    meters: dict[tuple[str, str], list[Feature]] = {}  # (tenant, usage type) → its metered features
    for usage in usages:
        license = licenses.get((usage.tenant_id, usage.account_id))
        if license is None:
            unmetered.append(Unmetered(usage, "unknown_account"))
            continue
        if usage.user_id:
            who = (usage.tenant_id, usage.account_id, usage.user_id)
            activity[who] = max(activity.get(who, usage.occurred_at), usage.occurred_at)
        metered = meters.get((usage.tenant_id, usage.usage_type))
        if metered is None:
            metered = meters[(usage.tenant_id, usage.usage_type)] = [
                f
                for f in features_by_tenant.get(usage.tenant_id, [])
                if f.kind is FeatureKind.METERED
                and f.meter is not None
                and f.meter.event_type == usage.usage_type
            ]
        if not metered:
            kind = (usage.tenant_id, usage.usage_type)
            no_meter[kind] = no_meter.get(kind, 0) + 1
            continue
        local = usage.occurred_at.astimezone(ZoneInfo(license.timezone))
        local_day = local.date()
        for feature in metered:
            assert feature.meter is not None
            aggregation = feature.meter.aggregation
            if aggregation is Aggregation.UNIQUE_COUNT and _absent(usage, feature.meter.value_path):
                continue  # like COUNT(DISTINCT …): an event naming no one adds no one (normal traffic)
            value = _value(usage, feature)
            if value is None:
                unmetered.append(Unmetered(usage, "invalid_value"))
                continue
            start, end = period_of_day(feature.meter.reset_period, local_day, license.timezone, local.fold)
            key = CounterKey(usage.tenant_id, usage.account_id, feature.key, start)
            counter = counters.get(key)
            if counter is None:
                counter = counters[key] = CounterDelta(
                    aggregation, 0.0, usage.occurred_at, key=key, period_end=end
                )
            _fold(counter, value, usage.occurred_at, local_day)
            if aggregation is not Aggregation.UNIQUE_COUNT:  # unique days come from new uniques
                day_key = DayKey(usage.tenant_id, usage.account_id, feature.key, local_day)
                day = days.get(day_key)
                if day is None:
                    day = days[day_key] = DayDelta(aggregation, 0.0, usage.occurred_at, key=day_key)
                _fold(day, value, usage.occurred_at, local_day)
    return Metered(list(counters.values()), list(days.values()), activity, unmetered, no_meter)


def _fold(delta: Delta, value: float | str, at: datetime, day: date) -> None:
    aggregation = delta.aggregation
    if aggregation is Aggregation.UNIQUE_COUNT:
        seen = delta.unique_values.get(str(value))
        delta.unique_values[str(value)] = day if seen is None else min(seen, day)
    elif aggregation is Aggregation.MAX:
        delta.amount = max(delta.amount, float(value))
    elif aggregation is Aggregation.LATEST:
        if at >= delta.last_event_at:
            delta.amount = float(value)
    else:
        delta.amount += float(value)
    delta.last_event_at = max(delta.last_event_at, at)


def unique_day_deltas(
    counters: Iterable[CounterDelta], new_values: set[tuple[CounterKey, str]]
) -> list[DayDelta]:
    """A unique value counts on the day it was first seen in its period, so that the days
    of a period add up to the period's unique count."""
    days: dict[DayKey, DayDelta] = {}
    for counter in counters:
        for value, day in counter.unique_values.items():
            if (counter.key, value) not in new_values:
                continue
            key = DayKey(counter.key.tenant_id, counter.key.account_id, counter.key.feature_key, day)
            delta = days.get(key)
            if delta is None:
                delta = days[key] = DayDelta(Aggregation.UNIQUE_COUNT, 0.0, counter.last_event_at, key=key)
            delta.amount += 1
    return list(days.values())


def thresholds_reached(feature: Feature, limit: float | None, usage: float) -> list[int]:
    """Every configured percentage of the limit that `usage` has reached."""
    if limit is None or limit <= 0:
        return []
    return [pct for pct in feature.thresholds if usage >= limit * pct / 100]


def thresholds_recovered(crossed: Iterable[int], limit: float | None, usage: float) -> list[int]:
    """Crossed percentages that `usage` is now under (after a limit increase)."""
    if limit is None:
        return sorted(crossed)
    return sorted(pct for pct in crossed if usage < limit * pct / 100)
