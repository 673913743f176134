"""Metering on real Kafka and PostgreSQL: exactly once, thresholds once per period, DLQ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from tangible_devstack.testing import eventually, read_topic
from tangible_entitlements.entrypoints.consumers import USAGE_CONSUMER
from tangible_schemas.registry import USAGE

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"
CROSSED = "tangible.entitlements.v1.threshold_crossed"
RECOVERED = "tangible.entitlements.v1.threshold_recovered"


async def _usage_is(h: Any, expected: float, account: str = "acct-1", **params: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        check = await h.check(account, "reports", **params)
        assert check["usage"] == expected, check
        return dict(check)

    return await eventually(probe)


async def _rewind_consumer_group(h: Any) -> None:
    """As if the consumer crashed after its database commit but before committing offsets."""
    clients = h.kafka
    consumer = clients.consumer(group=USAGE_CONSUMER)
    await consumer.start()
    try:
        topic = clients.topic(USAGE.name)
        partitions = [TopicPartition(topic, p) for p in range(USAGE.partitions)]
        consumer.assign(partitions)
        await consumer.commit(dict.fromkeys(partitions, 0))
    finally:
        await consumer.stop()


async def test_counters_move_exactly_once_under_redelivery_and_restarts(harness: Any) -> None:
    h = harness
    batch = [h.usage("acct-1", user_id=f"u{i % 3}") for i in range(30)]
    async with h.run():
        await h.provision(limit=1000)
        await h.produce(batch + batch[:10])  # duplicates inside one batch, too
        await _usage_is(h, 30)
        await h.produce(batch)  # the same records again (a producer retry, a replay)
        await h.produce([h.usage("acct-1")])
        await _usage_is(h, 31)
    # offsets lost: the whole topic is delivered again to a restarted consumer
    await _rewind_consumer_group(h)
    async with h.run():
        await h.produce([h.usage("acct-1")])
        await _usage_is(h, 32)
    # restart while a stream is flowing: stop after part of it was consumed
    stream = [h.usage("acct-1") for _ in range(600)]
    async with h.run():
        await h.produce(stream[:300])

        async def some() -> None:
            assert (await h.check("acct-1", "reports"))["usage"] > 32

        await eventually(some)
        await h.produce(stream[300:])
    async with h.run():
        await h.produce(stream)  # and everything once more for good measure
        await _usage_is(h, 632)
        report = await h.call("GET", "/v1/accounts/acct-1/usage?from=2026-11-01&to=2026-11-30")
        assert report["features"][0]["total"] == 632  # the daily rollup moved exactly once too


async def test_thresholds_fire_once_per_period_and_recover_after_the_reset(service: Any) -> None:
    h = service
    await h.provision(limit=10, hard=False)
    first = [h.usage("acct-1") for _ in range(12)]
    await h.produce(first[:6])
    await _usage_is(h, 6)
    await h.produce(first)  # 6 redelivered, 6 new
    check = await _usage_is(h, 12)
    assert (check["has_access"], check["overage"], check["limit_type"]) == (True, 2, "soft")
    crossed = await h.wait_events(3, TOPIC, CROSSED)
    assert sorted(e.data.threshold_percent for e in crossed) == [50, 80, 100]
    await h.produce([h.usage("acct-1") for _ in range(3)])
    await _usage_is(h, 15)
    assert len(await h.events(TOPIC, CROSSED)) == 3  # once per period, however far past

    # the month ends: each crossing recovers once, with the December period
    h.clock.set(datetime(2026, 12, 1, 0, 5, tzinfo=UTC))
    recovered = await h.wait_events(3, TOPIC, RECOVERED)
    assert {(e.data.threshold_percent, e.data.cause, e.data.period_start) for e in recovered} == {
        (pct, "period_reset", datetime(2026, 12, 1, tzinfo=UTC)) for pct in (50, 80, 100)
    }
    december = datetime(2026, 12, 1, 1, tzinfo=UTC)
    await h.produce([h.usage("acct-1", at=december) for _ in range(5)])
    check = await _usage_is(h, 5)
    assert check["period_start"] == "2026-12-01T00:00:00Z"
    crossed = await h.wait_events(4, TOPIC, CROSSED)
    assert [e.data.period_start for e in crossed].count(datetime(2026, 12, 1, tzinfo=UTC)) == 1
    h.clock.advance(timedelta(seconds=1))
    assert len(await h.events(TOPIC, RECOVERED)) == 3  # nothing recovers twice


async def test_a_higher_limit_recovers_crossed_thresholds_once(service: Any) -> None:
    h = service
    license = await h.provision(limit=10)
    await h.produce([h.usage("acct-1") for _ in range(9)])
    await _usage_is(h, 9)
    await h.wait_events(2, TOPIC, CROSSED)  # 50 and 80
    await h.call(
        "POST", "/v1/addons", {"key": "extra", "name": "Extra", "features": {"reports": {"limit": 10}}}
    )
    await h.call("POST", "/v1/addons/extra/versions/1/publish")
    await h.call("POST", f"/v1/licenses/{license['id']}/addons", {"addon_key": "extra"})
    recovered = await h.wait_events(2, TOPIC, RECOVERED)  # 9 of 20 is under both 50 % and 80 %
    outcome = sorted((e.data.threshold_percent, e.data.cause, e.data.limit) for e in recovered)
    assert outcome == [(50, "limit_increased", 20), (80, "limit_increased", 20)]
    await h.call("POST", f"/v1/licenses/{license['id']}/renew", {})
    assert len(await h.events(TOPIC, RECOVERED)) == 2


async def test_late_events_land_in_their_period_and_unknown_accounts_beyond_parking_are_dead_lettered(
    service: Any,
) -> None:
    h = service
    await h.provision()
    late = h.usage("acct-1", at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    # fixed date: older than the 30-day parking window on the harness's ManualClock
    stale = h.usage("nobody", at=datetime(2026, 10, 20, tzinfo=UTC))
    await h.produce([h.usage("acct-1"), late, stale, h.usage("acct-1", "login")])
    await _usage_is(h, 1)  # November's counter

    async def both_months() -> None:
        url = "/v1/accounts/acct-1/usage?from=2026-10-01&to=2026-11-30&granularity=month"
        report = await h.call("GET", url)
        assert [p["value"] for p in report["features"][0]["series"]] == [1, 1]

    await eventually(both_months)
    dead = await h.wait_events(1, f"tangible.dlq.{USAGE_CONSUMER}", "tangible.usage.v1.recorded")
    assert await _dlq_reasons(h) == ["parking_window_exceeded"] and len(dead) == 1


async def test_an_event_type_no_feature_meters_is_counted_and_skipped_not_dead_lettered(
    service: Any,
) -> None:
    """A vendor sends more kinds of usage than it meters: that is normal traffic, which a
    dead-letter topic (what needs a person) should not hold."""
    h = service
    await h.provision()
    await h.produce([h.usage("acct-1", "login.happened") for _ in range(3)] + [h.usage("acct-1")])
    await _usage_is(h, 1)
    series = ("entitlements_usage_unmetered_total", (("tenant", h.tenant), ("type", "login.happened")))

    async def counted() -> None:
        assert _samples((await h.client.get("/metrics")).text).get(series) == 3

    await eventually(counted)
    await h.relay_idle()
    assert await _dlq_reasons(h) == []


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _dlq_reasons(h: Any) -> list[str]:
    records = await read_topic(h.kafka, f"tangible.dlq.{USAGE_CONSUMER}")
    return [dict(r.headers)["dlq_reason"].decode() for r in records]


async def test_a_consumer_killed_inside_its_transaction_loses_and_doubles_nothing(
    harness: Any, owner_url: Any
) -> None:
    """The batch's transaction (inbox claim included) is cut off before it commits: the
    offsets were not committed either, so the restarted consumer counts that batch once."""
    h = harness
    database = await asyncpg.connect(owner_url(h.settings.database_url).replace("+asyncpg", ""))
    try:
        async with h.run():
            await h.provision(limit=1000)
            await h.produce([h.usage("acct-1") for _ in range(50)])
            await _usage_is(h, 50)
            blocker = database.transaction()
            await blocker.start()
            await database.execute("LOCK TABLE usage_counters IN ACCESS EXCLUSIVE MODE")
            await h.produce([h.usage("acct-1") for _ in range(40)])

            async def stuck() -> None:
                await database.execute("SELECT pg_stat_clear_snapshot()")  # fresh view inside our transaction
                waiting = await database.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query LIKE '%usage_counters%'"
                )
                assert waiting >= 1

            await eventually(stuck)
            h.app.state.runtime.shutdown_grace_seconds = 0.2
        await blocker.rollback()  # the consumer is gone; its transaction was rolled back
        assert await database.fetchval("SELECT value FROM usage_counters") == 50
    finally:
        await database.close()
    async with h.run():
        await _usage_is(h, 90)


DOCUMENTED_METERS = {
    "sum-quantity": ("sum", "quantity", 14),
    "sum-data-quantity": ("sum", "data.quantity", 14),
    "max-quantity": ("max", "quantity", 6),
    "latest-quantity": ("latest", "data.quantity", 6),
    "count-quantity": ("count", "quantity", 3),
    "users": ("unique_count", "user_id", 2),
    "data-users": ("unique_count", "data.user_id", 2),
}


async def test_meters_over_the_documented_fields_count_them(service: Any) -> None:
    """quantity and user_id travel beside the properties; a meter naming them used to count
    zero and dead-letter every event as invalid_value."""
    h = service
    for key, (aggregation, path, _) in DOCUMENTED_METERS.items():
        meter = {"event_type": "probe.meter", "aggregation": aggregation, "value_path": path}
        await h.call("POST", "/v1/features", {"key": key, "name": key, "kind": "metered", "meter": meter})
    features = {key: {"limit": 1000} for key in DOCUMENTED_METERS}
    await h.call("POST", "/v1/plans", {"key": "probe", "name": "Probe", "features": features})
    await h.call("POST", "/v1/plans/probe/versions/1/publish")
    license = {
        "account_id": "acct-1",
        "plan_key": "probe",
        "term_start": "2026-01-01",
        "term_end": "2027-01-01",
    }
    await h.call("POST", "/v1/licenses", {**license, "seats": 1})
    moments = [datetime(2026, 11, 26, hour, tzinfo=UTC) for hour in (8, 10, 9)]  # the 6 is the latest
    await h.produce(
        [
            h.usage("acct-1", "probe.meter", at=at, quantity=quantity, user_id=user)
            for at, quantity, user in zip(moments, [4, 6, 4], ["u-1", "u-2", "u-1"], strict=True)
        ]
    )

    async def counted() -> None:
        usage = {key: (await h.check("acct-1", key))["usage"] for key in DOCUMENTED_METERS}
        assert usage == {key: expected for key, (_, _, expected) in DOCUMENTED_METERS.items()}

    await eventually(counted)
    assert await _dlq_reasons(h) == []


async def test_a_value_path_that_can_never_resolve_is_refused_when_the_feature_is_created(
    service: Any,
) -> None:
    h = service
    for aggregation, path in [
        ("sum", "user_id"),
        ("max", "data.user_id"),
        ("sum", "quantity.x"),
        ("sum", "a..b"),
    ]:
        meter = {"event_type": "probe.meter", "aggregation": aggregation, "value_path": path}
        body = {"key": "probe", "name": "Probe", "kind": "metered", "meter": meter}
        problem = await h.call("POST", "/v1/features", body, status=422)
        assert problem["status"] == 422, (aggregation, path)
    await h.call("GET", "/v1/features/probe", status=404)
