"""Calendar periods in an account's time zone: keys, bounds and when a period closes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tangible_rewards.domain.errors import InvalidTimeZone

LIFETIME = "lifetime"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """An IANA time zone; InvalidTimeZone (422) for unknown names."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidTimeZone(f"unknown time zone '{name}'", time_zone=name) from error


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local day begins (DST-safe: wall-clock midnight in that zone)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def period_start(period: Period, day: date) -> date:
    match period:
        case Period.DAY:
            return day
        case Period.WEEK:
            return week_start(day)
        case Period.MONTH:
            return day.replace(day=1)
        case Period.QUARTER:
            return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        case Period.YEAR:
            return date(day.year, 1, 1)


def period_end(period: Period, day: date) -> date:
    """First day after the period containing `day`."""
    start = period_start(period, day)
    match period:
        case Period.DAY:
            return start + timedelta(days=1)
        case Period.WEEK:
            return start + timedelta(days=7)
        case Period.MONTH:
            return add_months(start, 1)
        case Period.QUARTER:
            return add_months(start, 3)
        case Period.YEAR:
            return date(start.year + 1, 1, 1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_key(period: Period, day: date) -> str:
    match period:
        case Period.DAY:
            return day.isoformat()
        case Period.WEEK:
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        case Period.MONTH:
            return f"{day.year}-{day.month:02d}"
        case Period.QUARTER:
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        case Period.YEAR:
            return str(day.year)


def closes_at(period: Period, day: date, tz: ZoneInfo) -> datetime:
    """The instant the period containing `day` ends, in that zone."""
    return start_of_day(period_end(period, day), tz)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February falls on 1 March in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def completed_years(since: date, today: date) -> int:
    """Whole years from `since` to `today` (anniversaries reached by `today`)."""
    years = today.year - since.year
    while years > 0 and add_years(since, years) > today:
        years -= 1
    return max(years, 0)
