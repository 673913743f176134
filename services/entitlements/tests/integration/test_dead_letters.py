"""Dead letters one can act on: list, inspect, replay a selection — applied at most once."""

from __future__ import annotations

from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_entitlements.entrypoints.consumers import USAGE_CONSUMER

pytestmark = pytest.mark.integration
DLQ = f"/v1/dead-letters/{USAGE_CONSUMER}"


async def _usage_is(h: Any, account: str, expected: float) -> None:
    async def probe() -> None:
        assert (await h.check(account, "reports"))["usage"] == expected

    await eventually(probe)


def _parking_refused(tenant: str, reason: str, count: int) -> str:
    return f'entitlements_usage_parking_refused_total{{reason="{reason}",tenant="{tenant}"}} {count:.1f}'


async def _dead_letters(h: Any, count: int, query: str = "") -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        page = await h.call("GET", f"{DLQ}{query}")
        assert len(page["items"]) == count, page
        return list(page["items"])

    return await eventually(probe)


async def test_a_replayed_selection_changes_state_exactly_once_however_often_it_is_replayed(
    harness: Any,
) -> None:
    harness.settings = harness.settings.model_copy(update={"parking_max_events": 0})
    async with harness.run():
        await _replayed_exactly_once(harness)


async def _replayed_exactly_once(h: Any) -> None:
    await h.provision("acct-1", limit=100)
    # usage of an account whose license does not exist yet, while the tenant's parking is
    # full (a cap of 0): refused as parking_full
    await h.produce([h.usage("late") for _ in range(3)] + [h.usage("acct-1")])
    items = await _dead_letters(h, 3)
    assert {i["reason"] for i in items} == {"parking_full"}

    async def counted() -> None:
        # refused in the handler's transaction, published by the outbox relay: counted there
        metrics = (await h.client.get("/metrics")).text
        assert 'dead_letters_total{consumer="entitlements-usage",reason="parking_full"} 3.0' in metrics
        # and by the usage consumer, per tenant, as parking's refusals
        assert _parking_refused(h.tenant, "parking_full", 3) in metrics

    await eventually(counted)
    assert {i["source_topic"] for i in items} == {"tangible.usage.v1"}
    assert await _dead_letters(h, 0, "?reason=handler_failed") == []
    paged = await h.call("GET", f"{DLQ}?limit=2")
    assert len(paged["items"]) == 2 and paged["next_offset"] == 2
    assert (paged["total"], paged["limit"], paged["offset"]) == (3, 2, 0)
    last = await h.call("GET", f"{DLQ}?limit=2&offset=2")
    assert [i["id"] for i in last["items"]] == [items[2]["id"]] and last["next_offset"] is None
    one = await h.call("GET", f"{DLQ}/records/{items[0]['id']}")
    assert one["event_id"] == items[0]["event_id"] and one["value"]["account_id"] == "late"

    # the cause is fixed: the license is created; then the selection is replayed, twice
    await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": "late", "plan_key": "starter", "term_start": "2026-01-01", "term_end": "2027-01-01"},
    )
    first = await h.call("POST", f"{DLQ}/replay", {"reason": "parking_full"})
    assert sorted(first["replayed"]) == sorted(i["id"] for i in items)
    await _usage_is(h, "late", 3)
    second = await h.call("POST", f"{DLQ}/replay", {"ids": [i["id"] for i in items]})
    assert len(second["replayed"]) == 3
    # a record produced after the second replay, on the same partition (same key), is
    # consumed after it: once it counts, the replay has been consumed, and changed nothing
    await h.produce([h.usage("late")])
    await _usage_is(h, "late", 4)
    assert len(await _dead_letters(h, 3)) == 3  # replay does not dead-letter anew
    assert _parking_refused(h.tenant, "parking_full", 3) in (await h.client.get("/metrics")).text


async def test_dead_letter_routes_refuse_what_they_cannot_serve(service: Any) -> None:
    h = service
    await h.call("GET", "/v1/dead-letters/no-such-consumer", status=404)
    await h.call("GET", f"{DLQ}/records/0-999999", status=404)
    await h.call("POST", f"{DLQ}/replay", {}, status=422)
    await h.call("POST", f"{DLQ}/replay", {"surprise": 1}, status=422)
    refused = await h.client.get(DLQ, headers=h.headers("read"))
    assert refused.status_code == 403
