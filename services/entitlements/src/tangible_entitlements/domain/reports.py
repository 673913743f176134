"""Usage reports: daily rollups folded into day / week / month series and totals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum

from tangible_entitlements.domain.model import Aggregation


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def bucket_start(day: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def combine(values: list[float], aggregation: Aggregation) -> float:
    """Days add up for count, sum and (first-seen) unique counts; max and latest don't."""
    if not values:
        return 0.0
    if aggregation is Aggregation.MAX:
        return max(values)
    if aggregation is Aggregation.LATEST:
        return values[-1]
    return float(sum(values))


def series(
    days: Mapping[date, float], aggregation: Aggregation, start: date, end: date, granularity: Granularity
) -> list[tuple[date, float]]:
    """One point per bucket from `start` to `end` (inclusive), empty buckets as 0."""
    buckets: dict[date, list[float]] = {}
    current = bucket_start(start, granularity)
    while current <= end:
        buckets[current] = []
        current = _next(current, granularity)
    for day in sorted(days):
        if start <= day <= end:
            buckets[bucket_start(day, granularity)].append(days[day])
    return [(bucket, combine(values, aggregation)) for bucket, values in buckets.items()]


def total(days: Mapping[date, float], aggregation: Aggregation, start: date, end: date) -> float:
    return combine([days[d] for d in sorted(days) if start <= d <= end], aggregation)


def _next(bucket: date, granularity: Granularity) -> date:
    if granularity is Granularity.DAY:
        return bucket + timedelta(days=1)
    if granularity is Granularity.WEEK:
        return bucket + timedelta(days=7)
    return (bucket.replace(day=28) + timedelta(days=4)).replace(day=1)
