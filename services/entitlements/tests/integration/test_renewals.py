"""Renewal cadence: once per term and lead time across scheduler replicas, late after downtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tangible_devstack.testing import read_topic, records_of_type, traceparent_of
from tangible_entitlements.entrypoints.scheduler import run_lifecycle

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"
RENEWAL = "tangible.entitlements.v1.renewal_due_announced"


async def notices(h: Any, expected: int) -> list[tuple[int, bool]]:
    """(lead days, late) of every renewal_due event, once `expected` are out and nothing is
    left in the outbox: a duplicate would show up here."""
    events = await h.wait_events(expected, TOPIC, RENEWAL)
    await h.relay_idle()
    events = await h.events(TOPIC, RENEWAL)
    assert all(e.data.renewal_date == date(2027, 11, 1) for e in events)
    return [(e.data.lead_days, e.data.late) for e in events]


async def test_renewal_due_once_per_lead_time_with_two_replicas_and_late_after_downtime(harness: Any) -> None:
    h = harness
    async with h.run(roles=("api", "relay")):
        await h.provision()
        await h.call(
            "POST",
            "/v1/licenses",
            {
                "account_id": "acct-2",
                "plan_key": "starter",
                "term_start": "2026-11-01",
                "term_end": "2027-11-01",
                "timezone": "Europe/Berlin",
            },
        )
        await h.call("PUT", "/v1/settings/lifecycle", {"renewal_lead_days": [90, 60, 30, 14]})

        # 90 days before, just after midnight in Berlin (still the day before in UTC); the
        # other license has renewed by then (its term ended on 2027-01-01): nothing for it
        h.clock.set(datetime(2027, 8, 2, 22, 30, tzinfo=UTC))
        async with h.schedulers(2) as replicas:
            assert await notices(h, 1) == [(90, False)]
            # both replicas racing on the same pass, several times, change nothing
            await asyncio.gather(*(run_lifecycle(c) for c in replicas for _ in range(3)))
            assert await notices(h, 1) == [(90, False)]

            h.clock.set(datetime(2027, 9, 2, 8, tzinfo=UTC))  # 60 days before
            await asyncio.gather(*(run_lifecycle(c) for c in replicas))
            assert await notices(h, 2) == [(90, False), (60, False)]

        # downtime: no scheduler runs while the 30- and 14-day lead times pass
        h.clock.set(datetime(2027, 10, 25, 8, tzinfo=UTC))
        await h.relay_idle()
        assert len(await h.events(TOPIC, RENEWAL)) == 2
        async with h.schedulers(2):
            found = await notices(h, 4)
        assert found == [(90, False), (60, False), (30, True), (14, True)]
        rows = await h.sql("SELECT lead_days, due_on, late FROM renewal_notices ORDER BY lead_days DESC")
        assert [(r["lead_days"], r["due_on"], r["late"]) for r in rows] == [
            (90, date(2027, 8, 3), False),
            (60, date(2027, 9, 2), False),
            (30, date(2027, 10, 2), True),
            (14, date(2027, 10, 18), True),
        ]


async def test_renewal_notices_on_kafka_carry_the_scheduled_rounds_trace_context(harness: Any) -> None:
    """The scheduler has no request or record to continue: each round starts its own trace,
    so the events it emits can be followed like any other."""
    h = harness
    async with h.run():
        await h.provision()  # renews on 2027-01-01: 36 days after NOW, the 90 and 60 are late
        await h.wait_events(2, TOPIC, RENEWAL)
        records = records_of_type(await read_topic(h.kafka, TOPIC), RENEWAL)
    mine = [r for r in records if ("ce_tenantid", h.tenant.encode()) in r.headers]
    assert len(mine) >= 2
    for record in mine:
        traceparent_of(record)
