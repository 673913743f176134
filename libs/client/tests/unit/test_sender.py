"""BatchSender on httpx.MockTransport: retries, backoff, Retry-After, splitting, outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tangible_client.events import EncodedEvent, encode_event
from tangible_client.reports import DeliveryStatus
from tangible_client.retry import RetryPolicy
from tangible_client.sender import BatchSender
from tangible_client.testing import FakeIngest

# the jitter on a Retry-After at half its range: a Retry-After of s is waited 1.25·s
POLICY = RetryPolicy(max_attempts=5, initial_backoff=0.5, max_backoff=4.0, deadline=60.0, rng=lambda: 0.5)


class Sleeps(list[float]):
    """Records the backoffs instead of waiting them out."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> FakeIngest:
    return FakeIngest()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def sender(server: FakeIngest, sleeps: Sleeps) -> AsyncIterator[BatchSender]:
    async with httpx.AsyncClient(base_url="http://ingest", transport=server.transport) as http:
        yield BatchSender(http, POLICY, sleep=sleeps)


def events(count: int, **overrides: object) -> list[EncodedEvent]:
    options: dict[str, object] = {"type": "report.generated", "account_id": "acct-1", "source": "app://t"}
    options.update(overrides)
    return [encode_event(**options) for _ in range(count)]  # type: ignore[arg-type]


async def test_a_503_is_retried_after_retry_after_with_the_same_bytes(
    sender: BatchSender, server: FakeIngest, sleeps: Sleeps
) -> None:
    server.fail_next(1, status=503, retry_after="3")
    batch = events(3)
    reports = await sender.send(batch)
    assert [r.status for r in reports] == [DeliveryStatus.ACCEPTED] * 3
    assert [r.attempts for r in reports] == [2, 2, 2]
    assert sleeps == [3.75]  # Retry-After 3 s, jittered upwards by up to half of it
    first, second = server.requests
    assert first.content == second.content  # same ids, same payload: the retry dedupes
    assert first.headers["content-type"] == "application/cloudevents-batch+json"


async def test_429_honours_retry_after(sender: BatchSender, server: FakeIngest, sleeps: Sleeps) -> None:
    server.fail_next(2, status=429, retry_after="2")
    reports = await sender.send(events(1))
    assert reports[0].status is DeliveryStatus.ACCEPTED
    assert sleeps == [2.5, 2.5]  # the server's word, not the exponential window


async def test_5xx_and_network_errors_back_off_with_full_jitter_in_a_doubling_window(
    sender: BatchSender, server: FakeIngest, sleeps: Sleeps
) -> None:
    server.drop_next(2)
    server.fail_next(2, status=502)
    reports = await sender.send(events(2))
    assert [r.status for r in reports] == [DeliveryStatus.ACCEPTED] * 2
    assert len(server.requests) == 5
    windows = [0.5, 1.0, 2.0, 4.0]
    assert all(0 <= slept <= window for slept, window in zip(sleeps, windows, strict=True))


async def test_the_window_is_capped_at_max_backoff(server: FakeIngest) -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=8, initial_backoff=1.0, max_backoff=2.0, deadline=600)
    async with httpx.AsyncClient(base_url="http://ingest", transport=server.transport) as http:
        server.fail_next(7, status=500)
        await BatchSender(http, policy, sleep=sleeps).send(events(1))
    assert len(sleeps) == 7 and max(sleeps) <= 2.0


async def test_after_max_attempts_every_event_is_reported_failed_with_the_last_reason(
    sender: BatchSender, server: FakeIngest
) -> None:
    server.fail_next(10, status=503)  # no Retry-After: a failure, not throttling
    batch = events(2)
    reports = await sender.send(batch)
    assert [r.id for r in reports] == [e.id for e in batch]
    assert {r.status for r in reports} == {DeliveryStatus.FAILED}
    assert reports[0].attempts == POLICY.max_attempts == len(server.requests)
    assert reports[0].errors[0].code == "scripted-failure"


async def test_a_retry_after_beyond_the_deadline_fails_now_instead_of_sleeping(
    sender: BatchSender, server: FakeIngest, sleeps: Sleeps
) -> None:
    server.fail_next(1, status=503, retry_after="3600")
    reports = await sender.send(events(1))
    assert reports[0].status is DeliveryStatus.FAILED
    assert sleeps == [] and len(server.requests) == 1


async def test_throttling_does_not_use_up_attempts_so_a_shed_batch_is_never_dropped(
    sender: BatchSender, server: FakeIngest, sleeps: Sleeps
) -> None:
    server.fail_next(12, status=503, retry_after="1")  # usage-ingest shedding load
    server.fail_next(8, status=429, retry_after="1")
    server.fail_next(4, status=502)  # failures still count: 4 of max_attempts 5
    batch = events(3)
    reports = await sender.send(batch)
    assert [r.status for r in reports] == [DeliveryStatus.ACCEPTED] * 3
    assert reports[0].attempts == 25 == len(server.requests)
    assert sleeps[:20] == [1.25] * 20
    assert {r.content for r in server.requests} == {server.requests[0].content}  # same ids each time
    assert len(server.stored) == 3  # each event stored once


async def test_a_long_retry_after_is_capped_and_jittered_upwards(server: FakeIngest) -> None:
    sleeps = Sleeps()
    draws = iter([0.0, 0.999])
    policy = RetryPolicy(deadline=600, max_retry_after=60, rng=lambda: next(draws))
    async with httpx.AsyncClient(base_url="http://ingest", transport=server.transport) as http:
        server.fail_next(1, status=503, retry_after="3600")
        server.fail_next(1, status=429, retry_after="10")
        reports = await BatchSender(http, policy, sleep=sleeps).send(events(1))
    assert reports[0].status is DeliveryStatus.ACCEPTED
    assert sleeps == [60.0, pytest.approx(14.995)]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 415])
async def test_other_4xx_fail_at_once_without_retry(
    sender: BatchSender, server: FakeIngest, status: int
) -> None:
    server.fail_next(1, status=status)
    reports = await sender.send(events(2))
    assert {r.status for r in reports} == {DeliveryStatus.FAILED}
    assert reports[0].errors[0].code == "scripted-failure"
    assert len(server.requests) == 1


async def test_per_event_results_map_back_by_index(sender: BatchSender, server: FakeIngest) -> None:
    [sent] = events(1, id="order-1")
    [conflicting] = events(1, id="order-1", quantity=5)
    [invalid] = events(1, account_id="")
    await sender.send([sent])
    [fresh] = events(1)
    reports = await sender.send([sent, conflicting, invalid, fresh])
    assert [r.status for r in reports] == [
        DeliveryStatus.DUPLICATE,
        DeliveryStatus.CONFLICT,
        DeliveryStatus.REJECTED,
        DeliveryStatus.ACCEPTED,
    ]
    assert reports[2].errors[0].code == "missing"
    assert reports[0].delivered and not reports[1].delivered


async def test_a_422_reports_each_event_rejected_with_its_reasons(
    sender: BatchSender, server: FakeIngest
) -> None:
    reports = await sender.send(events(2, account_id=""))
    assert {r.status for r in reports} == {DeliveryStatus.REJECTED}
    assert all(r.errors and r.errors[0].field == "id/type/subject" for r in reports)


async def test_a_413_splits_the_batch_until_it_fits(sender: BatchSender, server: FakeIngest) -> None:
    server.max_events = 3
    batch = events(10)
    reports = await sender.send(batch)
    assert [r.id for r in reports] == [e.id for e in batch]
    assert {r.status for r in reports} == {DeliveryStatus.ACCEPTED}
    assert len(server.stored) == 10


async def test_a_single_event_over_the_server_limit_is_rejected(
    sender: BatchSender, server: FakeIngest
) -> None:
    server.max_bytes = 100
    [report] = await sender.send(events(1))
    assert report.status is DeliveryStatus.REJECTED
    assert report.errors[0].code == "payload-too-large"
