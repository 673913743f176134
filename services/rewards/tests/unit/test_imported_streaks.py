"""Imported history dates the streaks and time-to-value windows it meets; adoption stays as of now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.rewards.tests.unit.harness import ACCOUNT, TENANT, Harness, usage
from tangible_rewards.domain import commands
from tangible_rewards.domain.adoption import SeatChange
from tangible_rewards.domain.evaluation import DayKey, Lateness, RuleIndex, fold_usage
from tangible_rewards.domain.licenses import LicenseFact
from tangible_rewards.domain.model import (
    AdoptionParams,
    RuleKind,
    StreakMode,
    StreakParams,
    TimeToValueParams,
)
from tangible_rewards.service_layer import handlers, views
from tangible_schemas.rewards import MilestoneReached, RewardGranted

DAY = timedelta(days=1)
WEEK_RUN = StreakParams(StreakMode.CONSECUTIVE_DAYS, days=7)
AUCKLAND = ZoneInfo("Pacific/Auckland")


def license_created(start: date) -> LicenseFact:
    end = start.replace(year=start.year + 1)
    return LicenseFact(TENANT, ACCOUNT, "lic-1", "created", "active", term_start=start, term_end=end)


def only_reward(harness: Harness) -> tuple[RewardGranted, MilestoneReached]:
    [granted] = harness.events(RewardGranted)
    [reached] = harness.events(MilestoneReached)
    return granted, reached


async def ledger_times(harness: Harness) -> list[datetime]:
    entries, _ = await views.history(
        harness.uow, tenant_id=TENANT, account_id=ACCOUNT, unit="credits", limit=10, offset=0
    )
    return [e.created_at for e in entries]


def test_the_fold_keeps_each_imported_day_by_its_earliest_event() -> None:
    index = {TENANT: RuleIndex(day_keys={"report.generated"})}
    noon = datetime(2026, 9, 1, 12, tzinfo=UTC)
    batch = [
        usage(noon, imported=True),
        usage(noon - timedelta(hours=3), imported=True),
        usage(noon + DAY, imported=False),
    ]
    lateness = Lateness(noon + 90 * DAY, timedelta(hours=48))
    fold = fold_usage(batch, index, lambda t, a: ZoneInfo("UTC"), lateness)
    key = DayKey(TENANT, ACCOUNT, "report.generated", noon.date())
    assert fold.imported_days == {key: noon - timedelta(hours=3)}
    assert key in fold.days


async def test_an_imported_streak_is_dated_by_the_event_that_completed_it(harness: Harness) -> None:
    await harness.rule("week-run", RuleKind.STREAK, WEEK_RUN)
    start = harness.clock.now() - 60 * DAY  # two months ago, 12:00 UTC
    await harness.use(*(usage(start + d * DAY + timedelta(hours=d), imported=True) for d in range(7)))

    granted, reached = only_reward(harness)
    seventh = start + 6 * DAY + timedelta(hours=6)
    assert (granted.granted_at, granted.imported) == (seventh, True)
    assert (reached.reached_at, reached.imported, reached.value) == (seventh, True, 7.0)
    assert await ledger_times(harness) == [seventh]
    assert granted.credits_expire_at == seventh + 30 * DAY


async def test_a_gap_filled_by_import_dates_the_streak_by_the_start_of_its_local_day(
    harness: Harness,
) -> None:
    await handlers.set_time_zone(commands.SetTimeZone(TENANT, ACCOUNT, "Pacific/Auckland"), uow=harness.uow)
    await harness.rule("week-run", RuleKind.STREAK, WEEK_RUN)
    first = date(2026, 9, 1)
    at = [datetime(2026, 9, 1, 10, tzinfo=AUCKLAND) + d * DAY for d in range(7)]
    await harness.use(*(usage(at[d], imported=True) for d in (0, 1, 2, 4, 5, 6)))
    assert harness.events(RewardGranted) == []

    await harness.use(usage(at[3], imported=True))  # the missing fourth day completes it on the seventh

    granted, _ = only_reward(harness)
    seventh = datetime.combine(first + 6 * DAY, datetime.min.time(), tzinfo=AUCKLAND)
    assert granted.granted_at == seventh  # the seventh day was active before this batch
    assert granted.period_key == "lifetime"


async def test_live_usage_completing_a_streak_is_dated_now(harness: Harness) -> None:
    await harness.rule("three", RuleKind.STREAK, StreakParams(StreakMode.CONSECUTIVE_DAYS, days=3))
    for _ in range(3):
        await harness.use(usage(harness.clock.now()))
        harness.clock.advance(DAY)

    granted, reached = only_reward(harness)
    assert (granted.granted_at, granted.imported) == (harness.clock.now() - DAY, False)
    assert reached.imported is False


async def test_an_imported_streak_completed_today_is_dated_now(harness: Harness) -> None:
    await harness.rule("three", RuleKind.STREAK, StreakParams(StreakMode.CONSECUTIVE_DAYS, days=3))
    now = harness.clock.now()
    await harness.use(*(usage(now - d * DAY - timedelta(hours=1), imported=True) for d in range(3)))

    granted, _ = only_reward(harness)
    assert (granted.granted_at, granted.imported) == (now, False)


async def test_an_imported_window_met_long_ago_is_granted_and_dated_when_it_was_met(
    harness: Harness,
) -> None:
    await harness.rule("fast-start", RuleKind.TIME_TO_VALUE, TimeToValueParams("report.generated", 14, 3))
    opened = harness.clock.now().date() - 90 * DAY
    await harness.entitlements(license_created(opened))
    noon = datetime.combine(opened, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    # sent out of order; the third report (day 9) meets the target, one after the window does nothing
    await harness.use(*(usage(noon + d * DAY, imported=True) for d in (9, 2, 20, 5)))

    granted, reached = only_reward(harness)
    assert (granted.granted_at, granted.period_key) == (noon + 9 * DAY, "lifetime")
    assert (reached.reached_at, reached.value, reached.imported) == (noon + 9 * DAY, 3.0, True)
    assert await ledger_times(harness) == [noon + 9 * DAY]


async def test_an_imported_window_not_met_within_its_days_is_not_granted(harness: Harness) -> None:
    await harness.rule("fast-start", RuleKind.TIME_TO_VALUE, TimeToValueParams("report.generated", 14, 3))
    opened = harness.clock.now().date() - 90 * DAY
    await harness.entitlements(license_created(opened))
    noon = datetime.combine(opened, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    await harness.use(*(usage(noon + d * DAY, imported=True) for d in (2, 13, 14, 15)))

    assert harness.events(RewardGranted) == []


async def test_live_usage_for_a_closed_window_is_still_missed(harness: Harness) -> None:
    await harness.rule("fast-start", RuleKind.TIME_TO_VALUE, TimeToValueParams("report.generated", 7, 1))
    await harness.entitlements(license_created(harness.clock.now().date() - 30 * DAY))
    await harness.use(usage(harness.clock.now() - 27 * DAY))  # in the window, but far too late

    assert harness.events(RewardGranted) == []


async def test_adoption_from_imported_usage_is_dated_now(harness: Harness) -> None:
    await harness.rule("rollout", RuleKind.ADOPTION, AdoptionParams(percent=100, window_days=30))
    await harness.entitlements(commands.SeatFact(TENANT, ACCOUNT, SeatChange("lic-1", "u1", True)))
    await harness.use(usage(harness.clock.now() - 3 * DAY, imported=True, user_id="u1"))

    granted, _ = only_reward(harness)
    assert (granted.granted_at, granted.imported) == (harness.clock.now(), False)
