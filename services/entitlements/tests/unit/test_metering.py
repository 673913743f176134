"""Periods in the account's time zone, and how a batch folds into counter deltas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tangible_entitlements.domain.metering import (
    Usage,
    meter_usage,
    thresholds_reached,
    thresholds_recovered,
    unique_day_deltas,
    value_path_problem,
)
from tangible_entitlements.domain.model import (
    Aggregation,
    Feature,
    FeatureKind,
    License,
    LicenseStatus,
    Meter,
    ResetPeriod,
)
from tangible_entitlements.domain.periods import period_bounds, period_of_day


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc,arg-type]


@pytest.mark.parametrize(
    ("period", "at", "start", "end"),
    [
        (ResetPeriod.DAY, utc(2026, 3, 5, 23), utc(2026, 3, 5), utc(2026, 3, 6)),
        (ResetPeriod.WEEK, utc(2026, 11, 26), utc(2026, 11, 23), utc(2026, 11, 30)),
        (ResetPeriod.MONTH, utc(2026, 12, 31, 23, 59), utc(2026, 12, 1), utc(2027, 1, 1)),
        (ResetPeriod.QUARTER, utc(2026, 8, 15), utc(2026, 7, 1), utc(2026, 10, 1)),
        (ResetPeriod.YEAR, utc(2026, 8, 15), utc(2026, 1, 1), utc(2027, 1, 1)),
    ],
)
def test_period_bounds_in_utc(period: ResetPeriod, at: datetime, start: datetime, end: datetime) -> None:
    assert period_bounds(period, at) == (start, end)


def test_period_boundary_follows_the_account_time_zone() -> None:
    # 23:30 UTC on 31 March is already 1 April in Berlin (UTC+2 in summer time)
    start, end = period_bounds(ResetPeriod.MONTH, utc(2026, 3, 31, 23, 30), "Europe/Berlin")
    assert start == utc(2026, 3, 31, 22) and end == utc(2026, 4, 30, 22)


@pytest.mark.parametrize(
    "timezone",
    ["UTC", "Europe/Berlin", "America/Santiago", "America/Havana", "Asia/Kolkata", "Australia/Lord_Howe"],
)
def test_the_period_of_a_local_day_is_the_period_of_each_of_its_moments(timezone: str) -> None:
    """The fold computes a period once per local day: every half hour of a year, in zones
    whose clocks change at midnight (Santiago, Havana) or by half an hour (Lord Howe)."""
    zone = ZoneInfo(timezone)
    for half_hours in range(0, 2 * 24 * 366, 1):
        at = utc(2026, 1, 1) + timedelta(minutes=30 * half_hours)
        local = at.astimezone(zone)
        for period in (ResetPeriod.DAY, ResetPeriod.WEEK, ResetPeriod.MONTH, ResetPeriod.YEAR):
            assert period_of_day(period, local.date(), timezone, local.fold) == period_bounds(
                period, at, timezone
            )


def test_never_resets() -> None:
    start, end = period_bounds(ResetPeriod.NEVER, utc(2030, 1, 1))
    assert end is None and start.year == 1970


def usage(
    event_id: str,
    account: str = "a1",
    kind: str = "report.generated",
    at: datetime | None = None,
    quantity: float = 1,
    **properties: object,
) -> Usage:
    return Usage(event_id, "t1", account, kind, at or utc(2026, 11, 10), quantity, None, properties)


LICENSES = {
    ("t1", "a1"): License(
        "l", "t1", "a1", "p", 1, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 1
    )
}


def feature(aggregation: Aggregation, path: str | None = None, key: str = "f") -> Feature:
    return Feature(
        key, key, FeatureKind.METERED, Meter("report.generated", aggregation, path, ResetPeriod.MONTH)
    )


def test_a_batch_folds_into_one_delta_per_counter_and_period() -> None:
    features = {"t1": [feature(Aggregation.COUNT)]}
    batch = [usage("1"), usage("2"), usage("3", at=utc(2026, 10, 31, 23))]  # the last one is in October
    metered = meter_usage(batch, LICENSES, features)
    assert metered.unmetered == []
    assert sorted((d.key.period_start.month, d.amount) for d in metered.counters) == [(10, 1.0), (11, 2.0)]
    assert sorted((d.key.day.isoformat(), d.amount) for d in metered.days) == [
        ("2026-10-31", 1.0),
        ("2026-11-10", 2.0),
    ]


def test_sum_max_latest_and_unique_count_fold_as_their_names_say() -> None:
    batch = [
        usage("1", pages=3, user="x"),
        usage("2", at=utc(2026, 11, 11), pages=7, user="y"),
        usage("3", at=utc(2026, 11, 9), pages=5, user="x"),
    ]
    folded = {
        agg: meter_usage(batch, LICENSES, {"t1": [feature(agg, path)]}).counters[0]
        for agg, path in [
            (Aggregation.SUM, "pages"),
            (Aggregation.MAX, "pages"),
            (Aggregation.LATEST, "pages"),
            (Aggregation.UNIQUE_COUNT, "user"),
        ]
    }
    assert folded[Aggregation.SUM].amount == 15
    assert folded[Aggregation.MAX].amount == 7
    assert (
        folded[Aggregation.LATEST].amount == 7
    )  # the event of 11 November is the latest, not the last received
    assert set(folded[Aggregation.UNIQUE_COUNT].unique_values) == {"x", "y"}


def documented(event_id: str, quantity: float, user_id: str | None, at: datetime | None = None) -> Usage:
    """An event as ingest publishes it: quantity and user_id beside the properties."""
    return Usage(event_id, "t1", "a1", "report.generated", at or utc(2026, 11, 10), quantity, user_id, {})


DOCUMENTED_BATCH = [
    documented("1", 4.0, "u-1"),
    documented("2", 6.0, "u-2", at=utc(2026, 11, 12)),  # the latest event
    documented("3", 4.0, "u-1", at=utc(2026, 11, 11)),
]


@pytest.mark.parametrize("prefix", ["", "data."])
@pytest.mark.parametrize(
    ("aggregation", "field", "expected"),
    [
        (Aggregation.COUNT, "quantity", 3.0),
        (Aggregation.SUM, "quantity", 14.0),
        (Aggregation.MAX, "quantity", 6.0),
        (Aggregation.LATEST, "quantity", 6.0),
        (Aggregation.UNIQUE_COUNT, "quantity", {"4.0", "6.0"}),
        (Aggregation.COUNT, "user_id", 3.0),
        (Aggregation.UNIQUE_COUNT, "user_id", {"u-1", "u-2"}),
    ],
)
def test_every_aggregation_reads_the_documented_fields(
    prefix: str, aggregation: Aggregation, field: str, expected: float | set[str]
) -> None:
    """quantity and user_id travel beside the properties; a meter names them all the same."""
    metered = meter_usage(DOCUMENTED_BATCH, LICENSES, {"t1": [feature(aggregation, prefix + field)]})
    assert metered.unmetered == []
    [counter] = metered.counters
    folded = set(counter.unique_values) if aggregation is Aggregation.UNIQUE_COUNT else counter.amount
    assert folded == expected


@pytest.mark.parametrize("field", ["user_id", "data.user_id", "seat"])
def test_unique_count_skips_events_that_name_no_one_rather_than_dead_lettering_them(field: str) -> None:
    """Usage without a user (a scheduled export, an API key) is normal traffic: it adds no
    unique user, as COUNT(DISTINCT …) ignores NULL, and it needs no person's attention."""
    anonymous = documented("4", 1.0, None)
    batch = [*DOCUMENTED_BATCH, anonymous]
    if field == "seat":
        batch = [usage("5", seat="s-1"), usage("6")]
    metered = meter_usage(batch, LICENSES, {"t1": [feature(Aggregation.UNIQUE_COUNT, field)]})
    assert metered.unmetered == []
    [counter] = metered.counters
    assert set(counter.unique_values) == ({"s-1"} if field == "seat" else {"u-1", "u-2"})


def test_a_metered_property_out_of_the_counters_range_is_refused_not_summed() -> None:
    batch = [
        usage("1", pages=1e308),
        usage("2", pages=1e308),
        usage("3", pages=-(10**16)),
        usage("4", pages=2),
    ]
    metered = meter_usage(batch, LICENSES, {"t1": [feature(Aggregation.SUM, "pages")]})
    assert [(r.usage.event_id, r.reason) for r in metered.unmetered] == [
        ("1", "invalid_value"),
        ("2", "invalid_value"),
        ("3", "invalid_value"),
    ]
    assert metered.counters[0].amount == 2


@pytest.mark.parametrize(
    ("aggregation", "path"),
    [
        (Aggregation.SUM, "user_id"),
        (Aggregation.MAX, "data.user_id"),
        (Aggregation.LATEST, "user_id"),
        (Aggregation.SUM, "quantity.value"),
        (Aggregation.UNIQUE_COUNT, "data.user_id.name"),
        (Aggregation.SUM, "data."),
        (Aggregation.SUM, "pages..count"),
        (Aggregation.SUM, ".pages"),
        (Aggregation.SUM, "pa\x00ges"),
    ],
)
def test_a_value_path_that_can_never_resolve_is_named(aggregation: Aggregation, path: str) -> None:
    assert value_path_problem(aggregation, path) is not None


@pytest.mark.parametrize(
    ("aggregation", "path"),
    [
        (Aggregation.SUM, "quantity"),
        (Aggregation.LATEST, "data.quantity"),
        (Aggregation.UNIQUE_COUNT, "user_id"),
        (Aggregation.COUNT, "data.user_id"),
        (Aggregation.SUM, "data.doc.pages"),
        (Aggregation.MAX, "pages"),
    ],
)
def test_documented_fields_and_properties_are_valid_paths(aggregation: Aggregation, path: str) -> None:
    assert value_path_problem(aggregation, path) is None


def test_unknown_accounts_are_refused_and_unmetered_types_counted_and_skipped() -> None:
    features = {"t1": [feature(Aggregation.COUNT)]}
    batch = [usage("1", account="nobody"), usage("2", kind="login"), usage("3", kind="login"), usage("4")]
    metered = meter_usage(batch, LICENSES, features)
    assert [(r.usage.event_id, r.reason) for r in metered.unmetered] == [("1", "unknown_account")]
    assert metered.no_meter == {("t1", "login"): 2}
    assert [c.amount for c in metered.counters] == [1.0]


def test_thresholds_reached_by_percentage_of_the_limit() -> None:
    f = feature(Aggregation.COUNT)
    assert thresholds_reached(f, 10, 7.9) == [50]
    assert thresholds_reached(f, 10, 10) == [50, 80, 100]
    assert thresholds_reached(f, None, 10) == []


def test_thresholds_recovered_when_the_limit_rises_or_disappears() -> None:
    assert thresholds_recovered([50, 80, 100], 20, 10) == [80, 100]  # 10 of 20 is still 50 %
    assert thresholds_recovered([50, 80], None, 10) == [50, 80]  # unlimited now
    assert thresholds_recovered([50], 10, 9) == []


def test_day_and_period_follow_the_license_time_zone() -> None:
    tokyo = {
        ("t1", "a1"): License(
            "l",
            "t1",
            "a1",
            "p",
            1,
            LicenseStatus.ACTIVE,
            date(2026, 1, 1),
            date(2027, 1, 1),
            1,
            timezone="Asia/Tokyo",
        )
    }
    # 16:00 UTC on 31 October is already 1 November in Tokyo (UTC+9)
    metered = meter_usage([usage("1", at=utc(2026, 10, 31, 16))], tokyo, {"t1": [feature(Aggregation.COUNT)]})
    [counter] = metered.counters
    [day] = metered.days
    assert counter.key.period_start == utc(2026, 10, 31, 15) and counter.period_end == utc(2026, 11, 30, 15)
    assert day.key.day == date(2026, 11, 1)


def test_activity_is_the_latest_event_per_user_even_out_of_order() -> None:
    batch = [
        Usage("1", "t1", "a1", "report.generated", utc(2026, 11, 10), 1, "u1", {}),
        Usage("2", "t1", "a1", "report.generated", utc(2026, 11, 3), 1, "u1", {}),
        Usage("3", "t1", "nobody", "report.generated", utc(2026, 11, 3), 1, "u2", {}),
    ]
    metered = meter_usage(batch, LICENSES, {"t1": [feature(Aggregation.COUNT)]})
    assert metered.activity == {("t1", "a1", "u1"): utc(2026, 11, 10)}


def test_unique_values_count_on_the_day_first_seen_in_the_period() -> None:
    batch = [
        usage("1", at=utc(2026, 11, 2), user="x"),
        usage("2", at=utc(2026, 11, 1), user="x"),
        usage("3", user="y"),
    ]
    metered = meter_usage(batch, LICENSES, {"t1": [feature(Aggregation.UNIQUE_COUNT, "user")]})
    [counter] = metered.counters
    days = unique_day_deltas(metered.counters, {(counter.key, "x"), (counter.key, "y")})
    assert sorted((d.key.day.day, d.amount) for d in days) == [(1, 1.0), (10, 1.0)]
    assert unique_day_deltas(metered.counters, {(counter.key, "y")})[0].key.day.day == 10  # x was seen before
