"""Usage periods: where a moment falls, in the account's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from tangible_entitlements.domain.model import ResetPeriod

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_bounds(
    period: ResetPeriod, at: datetime, timezone: str = "UTC"
) -> tuple[datetime, datetime | None]:
    """[start, end) of the period containing `at`, as UTC datetimes; `never` has no end."""
    if period is ResetPeriod.NEVER:
        return EPOCH, None
    local = at.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is ResetPeriod.DAY:
        start, end = midnight, _add_days(midnight, 1)
    elif period is ResetPeriod.WEEK:
        start = _add_days(midnight, -midnight.weekday())
        end = _add_days(start, 7)
    elif period is ResetPeriod.MONTH:
        start = midnight.replace(day=1)
        end = _add_months(start, 1)
    elif period is ResetPeriod.QUARTER:
        start = midnight.replace(day=1, month=3 * ((midnight.month - 1) // 3) + 1)
        end = _add_months(start, 3)
    else:
        start = midnight.replace(day=1, month=1)
        end = _add_months(start, 12)
    return start.astimezone(UTC), end.astimezone(UTC)


@lru_cache(maxsize=4096)
def period_of_day(
    period: ResetPeriod, day: date, timezone: str, fold: int = 0
) -> tuple[datetime, datetime | None]:
    """`period_bounds` of any moment of a local day (periods start at local midnight), for
    the metering fold to compute once per day rather than once per event. `fold`: the
    moment's, which `period_bounds` keeps (it matters where midnight happens twice)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone), fold=fold)
    return period_bounds(period, midnight, timezone)


def _add_days(moment: datetime, days: int) -> datetime:
    """Calendar days in local time (DST-safe: re-attach the zone to the wall clock)."""
    wall = moment.replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=moment.tzinfo)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    return moment.replace(year=moment.year + index // 12, month=index % 12 + 1)
