"""Streaks over an account's active local days: N days in a row, or ≥ N days in M weeks running.

A streak stays alive through the day (or week) after its last qualifying one: today is not
over yet, so not having been active today breaks nothing until tomorrow.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tangible_rewards.domain.model import StreakMode, StreakParams
from tangible_rewards.domain.periods import week_start

DAY = timedelta(days=1)
WEEK = timedelta(days=7)

STREAK_PERIOD = "streak"
"""The period key a streak's progress is kept under (a streak has no calendar period)."""


@dataclass(frozen=True)
class StreakState:
    value: int
    """Current length (days or weeks), 0 when broken."""
    alive_until: date | None
    """Last local day on which the streak is still unbroken without new activity."""
    completions: tuple[date, ...] = ()
    """Days on which the streak met its target (each a candidate qualifying day)."""


@dataclass(frozen=True)
class StreakProgress:
    """A streak rule's stored state for one account."""

    tenant_id: str
    account_id: str
    series: str
    value: int
    alive_until: date | None


def lookback(params: StreakParams) -> timedelta:
    """How far before the earliest touched day the evaluation must read."""
    if params.mode is StreakMode.CONSECUTIVE_DAYS:
        return params.days * DAY
    return ((params.weeks or 1) + 1) * WEEK


def target(params: StreakParams) -> int:
    """The run that completes the streak: days in a row, or weeks running."""
    return params.days if params.mode is StreakMode.CONSECUTIVE_DAYS else params.weeks or 1


def evaluate(
    params: StreakParams, active: Collection[date], touched: Iterable[date], today: date
) -> StreakState:
    if params.mode is StreakMode.CONSECUTIVE_DAYS:
        return _consecutive(params.days, set(active), set(touched), today)
    return _weekly(params.days, params.weeks or 1, set(active), set(touched), today)


def run_ending(active: set[date], end: date) -> int:
    """Active days in a row ending at `end`."""
    run, day = 0, end
    while day in active:
        run += 1
        day -= DAY
    return run


def _consecutive(n: int, active: set[date], touched: set[date], today: date) -> StreakState:
    # a newly active day can complete a run ending on it or on one of the next n-1 days
    candidates = {t + i * DAY for t in touched for i in range(n)}
    completions = sorted(d for d in candidates if d <= today and d in active and run_ending(active, d) >= n)
    past = [d for d in active if d <= today]
    if not past:
        return StreakState(0, None, tuple(completions))
    last = max(past)
    alive_until = last + DAY
    value = run_ending(active, last) if alive_until >= today else 0
    return StreakState(min(value, n), alive_until, tuple(completions))


def qualifying_weeks(active: set[date], days_per_week: int) -> dict[date, date]:
    """Monday of each week with ≥ `days_per_week` active days → the day it qualified."""
    by_week: dict[date, list[date]] = {}
    for day in active:
        by_week.setdefault(week_start(day), []).append(day)
    return {
        monday: sorted(days)[days_per_week - 1]
        for monday, days in by_week.items()
        if len(days) >= days_per_week
    }


def _weeks_ending(weeks: Collection[date], monday: date) -> int:
    run = 0
    while monday in weeks:
        run += 1
        monday -= WEEK
    return run


def _weekly(n: int, m: int, active: set[date], touched: set[date], today: date) -> StreakState:
    weeks = qualifying_weeks({d for d in active if d <= today}, n)
    touched_weeks = {week_start(t) for t in touched}
    candidates = {w + i * WEEK for w in touched_weeks for i in range(m)}
    completions = sorted(weeks[w] for w in candidates if w in weeks and _weeks_ending(weeks, w) >= m)
    if not weeks:
        return StreakState(0, None, tuple(completions))
    last = max(weeks)
    alive_until = last + 2 * WEEK - DAY  # Sunday of the following week
    value = _weeks_ending(weeks, last) if alive_until >= today else 0
    return StreakState(min(value, m), alive_until, tuple(completions))
