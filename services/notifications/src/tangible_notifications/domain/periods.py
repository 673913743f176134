"""Report periods: a month (`2026-09`), a quarter (`2026-Q3`), a year (`2026`) or a custom
range (`2026-07-15..2026-10-14`), with the period before it and the same period a year
earlier, which the report compares against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

MAX_CUSTOM_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


class InvalidPeriod(ValueError):
    """The period is not one the report understands."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    @property
    def key(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        if self.kind is PeriodKind.MONTH:
            last = self.start - timedelta(days=1)
            return Period(self.kind, last.replace(day=1), last)
        if self.kind is PeriodKind.QUARTER:
            last = self.start - timedelta(days=1)
            return Period(self.kind, date(last.year, last.month - 2, 1), last)
        if self.kind is PeriodKind.YEAR:
            return Period(self.kind, date(self.start.year - 1, 1, 1), date(self.start.year - 1, 12, 31))
        return Period(self.kind, self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_earlier(self) -> Period:
        if self.kind is PeriodKind.MONTH:
            return Period(
                self.kind,
                self.start.replace(year=self.start.year - 1),
                _month_end(self.start.year - 1, self.start.month),
            )
        return Period(self.kind, _year_earlier(self.start), _year_earlier(self.end))

    @property
    def granularity(self) -> str:
        """The trend's step: days for a month, weeks for a quarter or range, months for a year."""
        if self.kind is PeriodKind.MONTH:
            return "day"
        if self.kind is PeriodKind.YEAR or self.days > 120:
            return "month"
        return "week"


MIN_YEAR, MAX_YEAR = 1971, 9998  # the year before and after must be dates too


def parse_period(text: str) -> Period:
    period = _parse(text)
    if not MIN_YEAR <= period.start.year <= period.end.year <= MAX_YEAR:
        raise InvalidPeriod(f"a period between {MIN_YEAR} and {MAX_YEAR}")
    return period


def _parse(text: str) -> Period:
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidPeriod(f"no month {text}")
        return Period(PeriodKind.MONTH, date(year, month, 1), _month_end(year, month))
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        if year < 1971:
            raise InvalidPeriod(f"no quarter {text}")
        first = 3 * (quarter - 1) + 1
        return Period(PeriodKind.QUARTER, date(year, first, 1), _month_end(year, first + 2))
    if match := _YEAR.match(text):
        year = int(match[1])
        if year < 1971:
            raise InvalidPeriod(f"no year {text}")
        return Period(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))
    if match := _RANGE.match(text):
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as error:
            raise InvalidPeriod(str(error)) from error
        if end < start or (end - start).days >= MAX_CUSTOM_DAYS or start.year < 1971:
            raise InvalidPeriod(f"a range runs forward, within {MAX_CUSTOM_DAYS} days")
        return Period(PeriodKind.CUSTOM, start, end)
    raise InvalidPeriod("a period is YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD")


def last_complete_quarter(today: date) -> Period:
    current_first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return parse_period(_quarter_key(current_first - timedelta(days=1)))


def _quarter_key(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


PERIOD_PATTERN = r"^(\d{4}(-(\d{2}|[Qq][1-4]))?|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})$"
