"""The import loop paced by the server (importer/run.py): a throttled batch is sent again,
the same rows, after the server's Retry-After; requests in flight halve on a throttle and
grow by one per answered batch; the batch doubles per answered batch up to the limit.
Against a mock usage-ingest, with waits that take no time."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest

from tangible_client.importer.run import ROUTE, Fatal, Options, Pacer, import_file

ROWS = 3000
ROW = {"type": "report.generated", "account_id": "a1", "time": "2026-03-01T10:00:00Z"}


@pytest.fixture
def usage_file(tmp_path: Path) -> Path:
    path = tmp_path / "usage.ndjson"
    path.write_text("".join(json.dumps(ROW) + "\n" for _ in range(ROWS)))
    return path


class Ingest:
    """A usage-ingest that answers the first `throttle` requests 429 (Retry-After: 7), then
    accepts every event; it logs each request's event ids and each wait (seconds), in order."""

    def __init__(self, throttle: int = 1) -> None:
        self.throttle = throttle
        self.log: list[list[str] | float] = []
        self.accepted: Counter[str] = Counter()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", ROUTE)
        ids = [event["id"] for event in orjson.loads(request.content)]
        self.log.append(ids)
        await asyncio.sleep(0)  # let other requests in flight meanwhile
        if self.throttle > 0:
            self.throttle -= 1
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"title": "Too Many Requests"})
        self.accepted.update(ids)
        results = [{"index": i, "status": "accepted"} for i in range(len(ids))]
        return httpx.Response(202, json={"results": results})

    async def sleep(self, seconds: float) -> None:
        self.log.append(seconds)

    def requests(self) -> list[list[str]]:
        return [entry for entry in self.log if isinstance(entry, list)]

    def sleeps(self) -> list[float]:
        return [entry for entry in self.log if isinstance(entry, float)]


async def test_a_throttled_batch_is_sent_again_after_the_servers_retry_after(usage_file: Path) -> None:
    ingest = Ingest(throttle=1)

    totals = await import_file(
        usage_file,
        "http://ingest",
        "token",
        Options(max_batch=1000, max_concurrency=4),
        transport=httpx.MockTransport(ingest.handle),
        sleep=ingest.sleep,
    )

    first_batch = [f"line-{n}" for n in range(1, 101)]  # starts with batches of 100
    assert ingest.log[0] == first_batch
    # the wait is the server's Retry-After (then up to half again, so that batches throttled
    # together do not all come back at once), not the client's own backoff; then the same rows
    [wait] = ingest.sleeps()
    assert 7.0 <= wait <= 10.5
    waited = ingest.log.index(wait)
    assert next(entry for entry in ingest.log[waited:] if isinstance(entry, list)) == first_batch
    # every row arrives accepted exactly once, the throttled batch included
    assert ingest.accepted == Counter({f"line-{n}": 1 for n in range(1, ROWS + 1)})
    assert (totals.accepted, totals.errors, totals.throttled, totals.rows) == (ROWS, 0, 1, ROWS)
    checkpoint = json.loads((usage_file.parent / "usage.ndjson.checkpoint.json").read_text())
    assert checkpoint["done"] and checkpoint["line"] == ROWS


async def test_the_batch_doubles_with_answered_batches_up_to_the_limit(usage_file: Path) -> None:
    ingest = Ingest(throttle=0)

    await import_file(
        usage_file,
        "http://ingest",
        "token",
        Options(max_batch=400, max_concurrency=4),
        transport=httpx.MockTransport(ingest.handle),
        sleep=ingest.sleep,
    )

    sizes = [len(ids) for ids in ingest.requests()]
    *full, _rest = sizes  # the last batch is what is left of the file
    assert sizes[0] == 100 and max(sizes) == 400
    assert set(full) <= {100, 200, 400}  # doubling from 100, capped by max_batch
    assert full == sorted(full)  # never smaller without a throttle
    assert sum(sizes) == ROWS and ingest.sleeps() == []


async def test_a_refused_credential_stops_the_import_before_any_row_is_settled(usage_file: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"title": "Unauthorized"})

    with pytest.raises(Fatal, match="401"):
        await import_file(usage_file, "http://ingest", "expired", transport=httpx.MockTransport(refuse))
    assert not (usage_file.parent / "usage.ndjson.checkpoint.json").exists()


async def test_a_throttle_halves_the_requests_in_flight_and_the_batch() -> None:
    pacer = Pacer(limit=8, batch=800, max_batch=1000)
    for _ in range(8):
        await pacer.acquire()
    await pacer.release(throttled=True, max_concurrency=16)
    assert (pacer.limit, pacer.batch, pacer.in_flight) == (4, 400, 7)
    for _ in range(5):
        await pacer.release(throttled=True, max_concurrency=16)
    assert (pacer.limit, pacer.batch) == (1, 50)  # never below one request of 50 events


async def test_each_answered_batch_lets_one_more_request_fly_and_doubles_the_batch() -> None:
    pacer = Pacer(limit=2, batch=100, max_batch=1000)
    for expected in [(3, 200), (4, 400), (5, 800), (6, 1000), (6, 1000)]:
        await pacer.acquire()
        await pacer.release(throttled=False, max_concurrency=6)
        assert (pacer.limit, pacer.batch) == expected


async def test_no_more_requests_fly_than_the_limit_allows() -> None:
    pacer = Pacer(limit=2, batch=100, max_batch=1000)
    await pacer.acquire()
    await pacer.acquire()
    third = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0)
    assert not third.done() and pacer.in_flight == 2
    await pacer.release(throttled=True, max_concurrency=16)  # the limit halves to 1: still full
    await asyncio.sleep(0)
    assert not third.done() and pacer.in_flight == 1
    await pacer.release(throttled=False, max_concurrency=16)  # the limit is 2 again, none in flight
    await asyncio.wait_for(third, timeout=5)
    assert pacer.in_flight == 1


async def test_a_resumed_import_still_counts_the_errors_the_interrupted_run_found(tmp_path: Path) -> None:
    """The errors file keeps what was judged below the checkpoint; `errors_in_file` (and so
    the CLI's exit status 3) follows the whole file, `errors` only this run's rows."""
    path = tmp_path / "usage.ndjson"
    path.write_text(json.dumps(ROW) + "\n{not json\n" + "".join(json.dumps(ROW) + "\n" for _ in range(4)))
    ingest = Ingest(throttle=0)
    mock = httpx.MockTransport(ingest.handle)

    first = await import_file(path, "http://ingest", "token", transport=mock, sleep=ingest.sleep)
    assert (first.errors, first.errors_in_file) == (1, 1)

    # as if killed after line 3 settled: the resume starts at line 4, past the bad row
    checkpoint = path.with_name("usage.ndjson.checkpoint.json")
    saved = json.loads(checkpoint.read_text())
    offset = len((json.dumps(ROW) + "\n{not json\n" + json.dumps(ROW) + "\n").encode())
    checkpoint.write_text(json.dumps({**saved, "line": 3, "offset": offset, "done": False}))
    resumed = await import_file(path, "http://ingest", "token", transport=mock, sleep=ingest.sleep)

    assert (resumed.rows, resumed.errors, resumed.errors_in_file) == (3, 0, 1)
    errors = path.with_name("usage.ndjson.errors.csv").read_text().splitlines()
    assert [line.split(",")[:3] for line in errors[1:]] == [["2", "", "malformed-json"]]
