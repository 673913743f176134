"""The client's hand-made retry loops wait a jittered, bounded backoff: the importer's batch
sender (on `RetryPolicy`, the server's Retry-After honoured in full) and the entitlements
change stream's reconnects (on `jittered_backoff`)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import pytest

from tangible_client.entitlements import AsyncEntitlements
from tangible_client.importer.rows import Row
from tangible_client.importer.run import RETRY, ErrorFile, Totals, _send
from tangible_client.retry import RetryPolicy, jittered_backoff

ACCEPTED = {"accepted": 1, "duplicates": 0, "conflicts": 0, "rejected": 0}


@pytest.mark.parametrize("draw", [0.0, 0.3, 0.999])
def test_jittered_backoff_draws_within_a_doubling_window_capped_at_the_maximum(draw: float) -> None:
    waits = [jittered_backoff(n, 0.5, 4.0, lambda: draw) for n in range(1, 8)]
    assert waits == [pytest.approx(draw * w) for w in (0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0)]
    assert jittered_backoff(10_000, 0.5, 4.0, lambda: draw) == pytest.approx(draw * 4.0)  # no overflow


def _row(line: int) -> Row:
    event = {"specversion": "1.0", "id": f"e-{line}", "source": "s", "type": "t", "subject": "a"}
    return Row(line=line, end=line * 10, event=event)


def _answers(*statuses: tuple[int, dict[str, str]]) -> httpx.MockTransport:
    replies = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers = next(replies)
        if status == 202:
            result = {"index": 0, "id": "e-1", "status": "accepted", "errors": []}
            return httpx.Response(202, json={**ACCEPTED, "results": [result]})
        return httpx.Response(status, headers=headers)

    return httpx.MockTransport(handler)


async def _send_through(
    transport: httpx.MockTransport, policy: RetryPolicy, tmp_path: Path
) -> tuple[bool, Totals, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    totals = Totals()
    errors = ErrorFile(tmp_path / "errors.csv", 0)
    async with httpx.AsyncClient(base_url="http://ingest", transport=transport) as client:
        throttled = await _send(client, [_row(1)], totals, errors, policy=policy, sleep=sleep)
    errors.close()
    return throttled, totals, waits


async def test_the_importer_backs_off_with_jitter_within_thirty_seconds(tmp_path: Path) -> None:
    failures: list[tuple[int, dict[str, str]]] = [(503, {})] * 9
    throttled, totals, waits = await _send_through(_answers(*failures, (202, {})), RETRY, tmp_path)
    assert (throttled, totals.throttled, totals.accepted) == (True, 9, 1)
    windows = [min(30.0, 0.5 * 2**n) for n in range(9)]
    assert all(0 <= wait < window for wait, window in zip(waits, windows, strict=True)), waits
    assert len(set(waits)) == len(waits)  # drawn, not a fixed ladder


async def test_the_importer_waits_the_whole_retry_after_then_up_to_half_again(tmp_path: Path) -> None:
    draws = itertools.cycle([0.0, 0.5, 0.999])
    policy = RetryPolicy(
        max_attempts=RETRY.max_attempts,
        initial_backoff=RETRY.initial_backoff,
        max_backoff=RETRY.max_backoff,
        deadline=RETRY.deadline,
        max_retry_after=RETRY.max_retry_after,
        rng=lambda: next(draws),
    )
    later = (429, {"Retry-After": "120"})
    throttled, totals, waits = await _send_through(_answers(later, later, later, (202, {})), policy, tmp_path)
    assert (throttled, totals.throttled, totals.accepted) == (True, 3, 1)
    assert waits == [
        pytest.approx(w) for w in (120.0, 150.0, 179.94)
    ]  # never sooner than asked, never capped


async def test_the_change_stream_reconnects_after_a_jittered_bounded_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = itertools.cycle([0.5, 0.999, 0.0])
    reconnect_waits: list[float] = []
    enough = asyncio.Event()
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        if seconds != 3600:  # not the housekeeping loop's
            reconnect_waits.append(seconds)
            if len(reconnect_waits) == 6:
                enough.set()
        await real_sleep(0)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    sdk = AsyncEntitlements(
        "http://entitlements",
        token="t",
        transport=httpx.MockTransport(handler),
        reconnect_delay=0.2,
        max_reconnect_delay=1.0,
        housekeeping_interval=3600,
        rng=lambda: next(draws),
    )
    async with sdk:
        await asyncio.wait_for(enough.wait(), 10)
    windows = (0.2, 0.4, 0.8, 1.0, 1.0, 1.0)
    expected = [draw * w for draw, w in zip(itertools.cycle([0.5, 0.999, 0.0]), windows)]
    assert reconnect_waits[:6] == [pytest.approx(w) for w in expected]
    assert not sdk.fresh
