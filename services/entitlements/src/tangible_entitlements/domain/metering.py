"""Metering: which counters a batch of usage moves, and which thresholds it crosses."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tangible_entitlements.domain.model import Aggregation, Feature, FeatureKind, License
from tangible_entitlements.domain.periods import period_bounds


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


@dataclass
class CounterDelta:
    key: CounterKey
    period_end: datetime | None
    aggregation: Aggregation
    amount: float
    last_event_at: datetime
    unique_values: set[str]


@dataclass(frozen=True)
class Unmetered:
    usage: Usage
    reason: str  # unknown_account | no_meter | invalid_value


def _value(usage: Usage, feature: Feature) -> float | str | None:
    assert feature.meter is not None
    path = feature.meter.value_path
    if feature.meter.aggregation is Aggregation.COUNT:
        return 1.0
    if not path:
        return usage.quantity
    current: Any = usage.properties
    for part in path.removeprefix("data.").split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    if feature.meter.aggregation is Aggregation.UNIQUE_COUNT:
        return None if current is None or isinstance(current, dict | list) else str(current)
    if isinstance(current, bool) or not isinstance(current, int | float) or not math.isfinite(current):
        return None
    return float(current)


def meter_usage(
    usages: Iterable[Usage],
    licenses: Mapping[tuple[str, str], License],
    features_by_tenant: Mapping[str, list[Feature]],
) -> tuple[list[CounterDelta], list[Unmetered]]:
    """Fold a batch into one delta per counter (set-based upsert needs one row per key)."""
    deltas: dict[CounterKey, CounterDelta] = {}
    unmetered: list[Unmetered] = []
    for usage in usages:
        license = licenses.get((usage.tenant_id, usage.account_id))
        if license is None:
            unmetered.append(Unmetered(usage, "unknown_account"))
            continue
        metered = [
            f
            for f in features_by_tenant.get(usage.tenant_id, [])
            if f.kind is FeatureKind.METERED
            and f.meter is not None
            and f.meter.event_type == usage.usage_type
        ]
        if not metered:
            unmetered.append(Unmetered(usage, "no_meter"))
            continue
        for feature in metered:
            assert feature.meter is not None
            value = _value(usage, feature)
            if value is None:
                unmetered.append(Unmetered(usage, "invalid_value"))
                continue
            start, end = period_bounds(feature.meter.reset_period, usage.occurred_at, license.timezone)
            key = CounterKey(usage.tenant_id, usage.account_id, feature.key, start)
            delta = deltas.get(key)
            if delta is None:
                delta = deltas[key] = CounterDelta(
                    key, end, feature.meter.aggregation, 0.0, usage.occurred_at, set()
                )
            _fold(delta, value, usage.occurred_at)
    return list(deltas.values()), unmetered


def _fold(delta: CounterDelta, value: float | str, at: datetime) -> None:
    aggregation = delta.aggregation
    if aggregation is Aggregation.UNIQUE_COUNT:
        delta.unique_values.add(str(value))
    elif aggregation is Aggregation.MAX:
        delta.amount = max(delta.amount, float(value))
    elif aggregation is Aggregation.LATEST:
        if at >= delta.last_event_at:
            delta.amount = float(value)
    else:
        delta.amount += float(value)
    delta.last_event_at = max(delta.last_event_at, at)


def thresholds_reached(feature: Feature, limit: float | None, usage: float) -> list[int]:
    """Every configured percentage of the limit that `usage` has reached."""
    if limit is None or limit <= 0:
        return []
    return [pct for pct in feature.thresholds if usage >= limit * pct / 100]
