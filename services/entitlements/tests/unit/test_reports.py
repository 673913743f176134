"""Daily rollups folded into day / week / month series and totals."""

from __future__ import annotations

from datetime import date

from tangible_entitlements.domain.model import Aggregation
from tangible_entitlements.domain.reports import Granularity, series, total

DAYS = {date(2026, 10, 30): 2.0, date(2026, 11, 2): 3.0, date(2026, 11, 3): 1.0, date(2026, 12, 1): 4.0}


def test_weekly_buckets_start_on_monday_and_empty_ones_are_zero() -> None:
    points = series(DAYS, Aggregation.COUNT, date(2026, 10, 26), date(2026, 11, 15), Granularity.WEEK)
    assert points == [(date(2026, 10, 26), 2.0), (date(2026, 11, 2), 4.0), (date(2026, 11, 9), 0.0)]


def test_monthly_series_and_totals_respect_the_range() -> None:
    points = series(DAYS, Aggregation.SUM, date(2026, 11, 1), date(2026, 12, 31), Granularity.MONTH)
    assert points == [(date(2026, 11, 1), 4.0), (date(2026, 12, 1), 4.0)]
    assert total(DAYS, Aggregation.SUM, date(2026, 11, 1), date(2026, 11, 30)) == 4.0
    assert total(DAYS, Aggregation.MAX, date(2026, 10, 1), date(2026, 12, 31)) == 4.0


def test_daily_series_has_one_point_per_day() -> None:
    points = series(DAYS, Aggregation.COUNT, date(2026, 11, 1), date(2026, 11, 3), Granularity.DAY)
    assert [v for _, v in points] == [0.0, 3.0, 1.0]
