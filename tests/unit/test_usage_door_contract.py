"""A 202 is a promise: whatever usage-ingest accepts, every usage consumer can apply.

Hypothesis throws hostile events at ingest's translation (NUL anywhere, deep data, times
from year 1 on, extreme offsets, numbers at the edges). For each event it accepts, the
published record must decode as the `UsageRecorded` contract the consumers parse with, hold
only text PostgreSQL can store, and go through the consumers' own domain code (entitlements'
metering with a meter over every documented field and every property, under every reset
period; rewards' fold under every window) in the most extreme time zones, without raising.
What the database adds beyond that is covered by the integration tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tangible_entitlements.domain import metering as entitlements
from tangible_entitlements.domain.model import (
    Aggregation,
    Feature,
    FeatureKind,
    License,
    LicenseStatus,
    Meter,
    ResetPeriod,
)
from tangible_ingest.adapters.publisher import encode_usage, usage_headers
from tangible_ingest.entrypoints.translate import to_command
from tangible_rewards.domain import evaluation as rewards
from tangible_rewards.domain.model import (
    AdoptionParams,
    MilestoneRule,
    Repeat,
    Reward,
    RewardKind,
    RuleKind,
    StreakMode,
    StreakParams,
    ThresholdParams,
    TimeToValueParams,
)
from tangible_schemas import from_record
from tangible_schemas.usage import UsageRecorded

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ZONES = ("Etc/GMT+12", "Pacific/Kiritimati", "America/St_Johns")  # UTC-12, UTC+14, a half hour
USAGE_TYPE = "report.generated"

texts = st.one_of(
    st.text(min_size=1, max_size=6),
    st.text(alphabet=st.sampled_from("a\x00\\u0/.é🦄\u2028"), min_size=1, max_size=6),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=10,
)


def chain(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
times = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(2026, 11, 27), timezones=offsets),
    st.datetimes(min_value=datetime(1969, 12, 30), max_value=datetime(1970, 1, 2), timezones=offsets),
).map(lambda t: t.isoformat())
data = st.fixed_dictionaries(
    {},
    optional={
        "quantity": st.one_of(st.integers(0, 10**15), st.floats(0, 1e15)),
        "user_id": texts,
        "props": st.dictionaries(texts, json_values, max_size=3),
        "deep": st.integers(120, 210).map(chain),
    },
).map(lambda d: {**d.pop("props", {}), **d})
events = st.fixed_dictionaries(
    {"specversion": st.just("1.0"), "id": texts, "source": texts, "type": texts, "subject": texts},
    optional={"time": times, "data": data, "traceid": texts},
)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings_in(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def features(properties: dict[str, Any]) -> list[Feature]:
    """A meter of every aggregation over every documented field and every property (that a
    dotted path can name), under every reset period."""
    named = [f"data.{name}" for name in properties if name and "." not in name]
    paths = [None, "quantity", "data.quantity", "user_id", "data.user_id", *named]
    meters = [Meter(USAGE_TYPE, a, p, r) for a in Aggregation for p in paths for r in ResetPeriod]
    return [Feature(f"f{i}", "F", FeatureKind.METERED, meter) for i, meter in enumerate(meters)]


def rules() -> list[MilestoneRule]:
    credits = Reward(RewardKind.CREDITS, Decimal(1))
    windows = ["lifetime", "day", "week", "month", "quarter", "year"]
    params: list[Any] = [ThresholdParams(USAGE_TYPE, 10, window=w) for w in windows]
    params += [
        StreakParams(StreakMode.CONSECUTIVE_DAYS, 3, usage_type=USAGE_TYPE),
        AdoptionParams(50, 30, usage_type=USAGE_TYPE),
        TimeToValueParams(USAGE_TYPE, 7),
    ]
    kinds = {
        ThresholdParams: RuleKind.USAGE_THRESHOLD,
        StreakParams: RuleKind.STREAK,
        AdoptionParams: RuleKind.ADOPTION,
        TimeToValueParams: RuleKind.TIME_TO_VALUE,
    }
    return [
        MilestoneRule(f"r{i}", f"k{i}", 1, "R", kinds[type(p)], p, credits, repeat=Repeat.ONCE)
        for i, p in enumerate(params)
    ]


RULES = rewards.RuleIndex.of(rules())


def moment_and_amount(wire: UsageRecorded) -> tuple[datetime, float, str | None]:
    return wire.occurred_at, wire.quantity, wire.user_id


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_whatever_ingest_accepts_every_usage_consumer_can_apply(item: dict[str, Any]) -> None:
    item["type"] = USAGE_TYPE if item["type"].startswith("a") else item["type"]
    command = to_command("t1", [item], NOW)
    if not command.events:
        return
    [event] = command.events
    value = encode_usage("t1", event)
    record = from_record(usage_headers("t1", event, NOW.isoformat(), []), value)
    wire = record.data
    assert isinstance(wire, UsageRecorded)
    assert not any("\x00" in s for s in strings_in(orjson.loads(value)))  # PostgreSQL text/jsonb
    assert not any("\x00" in s for s in (record.subject, record.tenantid))

    usage = entitlements.Usage(
        record.id,
        wire.tenant_id,
        wire.account_id,
        wire.usage_type,
        wire.occurred_at,
        wire.quantity,
        wire.user_id,
        wire.properties,
    )
    catalog = {"t1": features(wire.properties)}
    for zone in ZONES:
        license = License(
            "l1", "t1", wire.account_id, "p", 1, LicenseStatus.ACTIVE, date(1960, 1, 1), date(2030, 1, 1), 1,
            timezone=zone,
        )  # fmt: skip
        metered = entitlements.meter_usage([usage], {("t1", wire.account_id): license}, catalog)
        # deliberate refusals only (another type, a property that is not a number), never a raise
        assert {u.reason for u in metered.unmetered} <= {"no_meter", "invalid_value"}

        fold = rewards.fold_usage(
            [rewards.Usage(record.id, "t1", wire.account_id, wire.usage_type, *moment_and_amount(wire))],
            {"t1": RULES},
            lambda tenant, account, zone=zone: ZoneInfo(zone),  # type: ignore[misc]
            rewards.Lateness(NOW, timedelta(days=365 * 100)),
        )
        assert fold.too_late == 0
