"""Evaluating streaks, time-to-value and adoption for the accounts a batch touched.

Each runs inside the caller's transaction, reads what it needs in a few set-based queries,
and returns achievements for `granting.grant`.

Imported history (`UsageFold.imported_days`) dates what it meets: a streak completed on a
local day before today, or a time-to-value window met within its days, is dated by the
imported event that made that day active (or, for a day active before the batch, the start
of that local day), and a window met by history is granted however long ago it closed.
Adoption depends on the seat list as of now and is always evaluated, and dated, now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tangible_rewards.domain import streaks
from tangible_rewards.domain.evaluation import Achievement, DayKey, RuleIndex, ZoneOf
from tangible_rewards.domain.licenses import LicenseState, time_to_value, ttv_qualifying
from tangible_rewards.domain.model import AdoptionParams, MilestoneRule, StreakParams, TimeToValueParams
from tangible_rewards.domain.periods import local_date, start_of_day
from tangible_rewards.service_layer.policy import Policy
from tangible_rewards.service_layer.ports import UnitOfWork

Account = tuple[str, str]
ActivityKey = tuple[str, str, str]
ImportedDays = Mapping[DayKey, datetime]
"""Local days imported usage made active → the earliest imported event on each."""


def _by_activity(imported: ImportedDays) -> dict[ActivityKey, dict[date, datetime]]:
    result: dict[ActivityKey, dict[date, datetime]] = {}
    for key, at in imported.items():
        result.setdefault((key.tenant_id, key.account_id, key.activity_key), {})[key.day] = at
    return result


def _dated(day: date, tz: ZoneInfo, imported_on: Mapping[date, datetime]) -> datetime:
    """When history met a rule on `day`: the imported event that made it active, else
    (the day was active before the batch) the start of that local day."""
    at = imported_on.get(day)
    return at if at is not None else start_of_day(day, tz).astimezone(UTC)


async def evaluate_streaks(
    uow: UnitOfWork,
    indexes: Mapping[str, RuleIndex],
    days: Iterable[DayKey],
    zone_of: ZoneOf,
    now: datetime,
    imported: ImportedDays | None = None,
) -> list[Achievement]:
    """`days`: newly active days; `imported`: which of them imported usage made active."""
    days = list(days)
    history_days = _by_activity({k: imported[k] for k in days if k in imported} if imported else {})
    touched: dict[ActivityKey, set[date]] = {}
    for day_key in days:
        touched.setdefault((day_key.tenant_id, day_key.account_id, day_key.activity_key), set()).add(
            day_key.day
        )
    work: list[tuple[ActivityKey, MilestoneRule, StreakParams]] = [
        (key, rule, rule.params)
        for key in touched
        for rule in indexes[key[0]].rules
        if isinstance(rule.params, StreakParams) and rule.params.usage_type == key[2]
    ]
    if not work:
        return []
    since = min(min(touched[key]) - streaks.lookback(params) for key, _, params in work)
    history = await uow.activity.days({key for key, _, _ in work}, since)
    achieved: list[Achievement] = []
    progress: list[streaks.StreakProgress] = []
    for key, rule, params in work:
        tz = zone_of(key[0], key[1])
        today = local_date(now, tz)
        state = streaks.evaluate(params, history[key].keys(), touched[key], today)
        progress.append(streaks.StreakProgress(key[0], key[1], rule.series, state.value, state.alive_until))
        imported_on = history_days.get(key)
        for day in state.completions:
            qualifying = rule.qualifying_for(day, day.isoformat())
            # live usage (and anything completed today) is dated now, as it always was
            reached_at = _dated(day, tz, imported_on) if imported_on and day < today else None
            # a completion from the past is worth its target, not today's (broken) run
            value = float(streaks.target(params)) if reached_at else float(state.value)
            achieved.append(Achievement(key[0], key[1], rule, qualifying, value, reached_at))
    await uow.progress.set_streaks(progress)
    return achieved


async def evaluate_time_to_value(
    uow: UnitOfWork,
    indexes: Mapping[str, RuleIndex],
    touched: Iterable[tuple[str, str, str | None]],
    zone_of: ZoneOf,
    now: datetime,
    policy: Policy,
    imported: ImportedDays | None = None,
) -> list[Achievement]:
    """`touched`: (tenant, account, the activity key whose usage moved, or None for a new license);
    `imported`: the days imported usage touched (their windows are judged by the history)."""
    wanted = set(touched)
    history_days = _by_activity(imported or {})
    work: list[tuple[Account, MilestoneRule, TimeToValueParams]] = [
        ((tenant, account), rule, rule.params)
        for tenant, account, key in wanted
        if tenant in indexes
        for rule in indexes[tenant].rules
        if isinstance(rule.params, TimeToValueParams) and key in (None, rule.params.usage_type)
    ]
    if not work:
        return []
    licenses = await uow.licenses.for_accounts(a for a, _, _ in work)
    # only windows still open (give or take a day of time zone and the late window) matter,
    # and those holding a day imported history touched
    horizon = now.date() - policy.late_window - timedelta(days=1)

    def imported_into(account: Account, params: TimeToValueParams, state: LicenseState) -> bool:
        days = history_days.get((account[0], account[1], params.usage_type), {})
        deadline = state.started_on + timedelta(days=params.days)
        return any(state.started_on <= day < deadline for day in days)

    open_windows = [
        (account, rule, params, state)
        for account, rule, params in work
        for state in licenses[account]
        if state.started_on + timedelta(days=params.days) >= horizon or imported_into(account, params, state)
    ]
    if not open_windows:
        return []
    since = min(state.started_on for *_, state in open_windows)
    history = await uow.activity.days({(a[0], a[1], p.usage_type) for a, _, p, _ in open_windows}, since)
    achieved: list[Achievement] = []
    for account, rule, params, state in open_windows:
        ttv = time_to_value(state, params, history[(account[0], account[1], params.usage_type)])
        if ttv.met_on is None:
            continue
        tz = zone_of(*account)
        reached_at = None
        if imported_into(account, params, state):
            # judged by the history: met within the window is met, whenever it is imported
            today = local_date(now, tz)
            imported_on = history_days[(account[0], account[1], params.usage_type)]
            reached_at = _dated(ttv.met_on, tz, imported_on) if ttv.met_on < today else None
        elif now > start_of_day(ttv.deadline, tz) + policy.late_window:
            continue  # late live usage may still complete the window, but only within the late window
        achieved.append(
            Achievement(account[0], account[1], rule, ttv_qualifying(state), ttv.current, reached_at)
        )
    return achieved


async def evaluate_adoption(
    uow: UnitOfWork,
    indexes: Mapping[str, RuleIndex],
    accounts: Iterable[Account],
    zone_of: ZoneOf,
    now: datetime,
) -> list[Achievement]:
    by_measure: dict[tuple[str, int], list[tuple[Account, MilestoneRule, AdoptionParams]]] = {}
    for account in set(accounts):
        for rule in indexes.get(account[0], RuleIndex()).rules:
            if isinstance(rule.params, AdoptionParams):
                measure = (rule.params.usage_type, rule.params.window_days)
                by_measure.setdefault(measure, []).append((account, rule, rule.params))
    achieved: list[Achievement] = []
    for (activity_key, window_days), items in by_measure.items():
        counts = await uow.activity.adoption(
            (a for a, _, _ in items), activity_key, now - timedelta(days=window_days)
        )
        for account, rule, params in items:
            adoption = counts[account]
            if adoption.reached(params):
                today = local_date(now, zone_of(*account))
                qualifying = rule.qualifying_for(today, today.isoformat())
                achieved.append(Achievement(account[0], account[1], rule, qualifying, adoption.percent))
    return achieved
