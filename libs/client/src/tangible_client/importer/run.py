"""The import loop: batches sent concurrently, paced by the server, checkpointed in order.

Pacing (additive increase, multiplicative decrease): every fast 202 lets one more request
fly and doubles the batch size up to the server's limit; a 429 or 503 halves the requests in
flight and waits the server's Retry-After before the same batch is sent again. The
checkpoint (`FILE.checkpoint.json`: the file's SHA-256, the last line and byte offset
below which every row is settled) is written as batches settle in file order, so an
interrupted import resumes there; rows after it may be sent twice, and usage-ingest's
deduplication (stable ids, see `rows`) counts them once.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tangible_client.importer.rows import Row, read_csv, read_ndjson
from tangible_client.reports import Reason
from tangible_client.retry import RetryableError, RetryPolicy, Sleep, retry_after

ROUTE = "/v1/imports/events"
MEDIA_TYPE = "application/cloudevents-batch+json"
# An import waits out any outage (no attempt limit, no deadline): jittered backoff after a
# network error or a 5xx, the server's Retry-After in full (then up to half again, so
# concurrent batches do not all come back in the same instant).
RETRY = RetryPolicy(
    max_attempts=sys.maxsize,
    initial_backoff=0.5,
    max_backoff=30.0,
    deadline=math.inf,
    max_retry_after=math.inf,
)


@dataclass
class Options:
    max_batch: int = 1000  # usage-ingest's default limit per request
    max_concurrency: int = 16  # measured: 16 beat 8 by a quarter on 2 cores (docs/performance.md)
    max_rate: float | None = None  # events per second, a ceiling the operator sets
    timeout: float = 30.0


@dataclass
class Totals:
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    rows: int = 0
    throttled: int = 0
    seconds: float = 0.0
    last_line: int = 0
    # rows in FILE.errors.csv once the run ends: this run's and those an interrupted run
    # judged before the checkpoint it resumed from (the exit status follows the whole file)
    errors_in_file: int = 0

    def as_json(self) -> dict[str, Any]:
        rate = self.rows / self.seconds if self.seconds else 0.0
        return {**self.__dict__, "rows_per_second": round(rate, 1)}


@dataclass
class Pacer:
    """How many requests fly and how large a batch is, from the server's answers."""

    limit: int
    batch: int
    max_batch: int
    in_flight: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def acquire(self) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    async def release(self, *, throttled: bool, max_concurrency: int) -> None:
        async with self.changed:
            self.in_flight -= 1
            if throttled:
                self.limit = max(1, self.limit // 2)
                self.batch = max(50, self.batch // 2)
            else:
                self.limit = min(max_concurrency, self.limit + 1)
                self.batch = min(self.max_batch, self.batch * 2)
            self.changed.notify_all()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Checkpoint:
    def __init__(self, path: Path, sha256: str) -> None:
        self.path, self.sha256 = path, sha256
        self.line, self.offset = 0, 0
        if path.exists():
            saved = json.loads(path.read_text())
            if saved.get("sha256") == sha256:
                self.line, self.offset = int(saved["line"]), int(saved["offset"])

    def save(self, line: int, offset: int, done: bool = False) -> None:
        self.line, self.offset = line, offset
        state = {"sha256": self.sha256, "line": line, "offset": offset, "done": done}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.path)  # atomic: a crash leaves the old or the new checkpoint


class ErrorFile:
    """`FILE.errors.csv`: line, id, code, field, message; a resume drops what it will redo."""

    def __init__(self, path: Path, keep_through_line: int) -> None:
        kept: list[list[str]] = []
        if path.exists() and keep_through_line > 0:
            with path.open(newline="") as stream:
                kept = [r for r in list(csv.reader(stream))[1:] if r and int(r[0]) <= keep_through_line]
        self._stream = path.open("w", newline="")
        self._writer = csv.writer(self._stream)
        self._writer.writerow(["line", "id", "code", "field", "message"])
        self._writer.writerows(kept)
        self._stream.flush()
        self.rows = len(kept)

    def write(self, line: int, event_id: str | None, code: str, field: str | None, message: str) -> None:
        self._writer.writerow([line, event_id or "", code, field or "", message])
        self.rows += 1
        self._stream.flush()  # before the checkpoint passes it: a killed import keeps it

    def close(self) -> None:
        self._stream.close()


class Fatal(Exception):
    """The server refuses the credential or the request: stop, keep the checkpoint."""


async def _send(
    client: httpx.AsyncClient,
    rows: list[Row],
    totals: Totals,
    errors: ErrorFile,
    *,
    policy: RetryPolicy = RETRY,
    sleep: Sleep | None = None,
) -> bool:
    """Send one batch until judged; True if the server throttled on the way."""
    throttled = False
    body = orjson.dumps([r.event for r in rows])
    response: httpx.Response | None = None
    async for attempt in policy.retrying(sleep or asyncio.sleep):
        with attempt:
            try:
                response = await client.post(ROUTE, content=body, headers={"Content-Type": MEDIA_TYPE})
            except httpx.TransportError as error:
                raise RetryableError(Reason("network-error", f"{type(error).__name__}: {error}")) from error
            if response.status_code in (429, 503) or response.status_code >= 500:
                throttled = True  # each 429 and 5xx: the pacer halves on it
                totals.throttled += 1
                # a Retry-After of 0 is waited like none: the jittered backoff
                wait = retry_after(response) or None
                raise RetryableError(Reason("throttled", str(response.status_code)), wait, throttled=True)
    assert response is not None  # the policy has no limit: it returns a response or raises
    if response.status_code == 413 and len(rows) > 1:
        half = len(rows) // 2
        first = await _send(client, rows[:half], totals, errors, policy=policy, sleep=sleep)
        return await _send(client, rows[half:], totals, errors, policy=policy, sleep=sleep) or first
    if response.status_code in (202, 422):
        payload = orjson.loads(response.content)
        results = payload.get("results") if response.status_code == 202 else payload.get("errors")
        for result in results or []:
            row = rows[result["index"]]
            status = result.get("status", "rejected")
            if status == "accepted":
                totals.accepted += 1
            elif status == "duplicate":
                totals.duplicates += 1
            else:
                totals.errors += 1
                for reason in result.get("errors") or [{"code": status, "message": status}]:
                    errors.write(
                        row.line, row.event_id, reason["code"], reason.get("field"), reason["message"]
                    )
        return throttled
    raise Fatal(f"{response.status_code} {response.text[:500]}")


def _batches(rows: Iterator[Row], pacer: Pacer, totals: Totals, errors: ErrorFile) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        totals.rows += 1
        totals.last_line = row.line
        if row.error is not None:
            totals.errors += 1
            errors.write(row.line, None, row.error.code, row.error.field, str(row.error))
            continue
        batch.append(row)
        if len(batch) >= pacer.batch:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare(path: Path) -> tuple[str, int, Checkpoint, ErrorFile]:
    """The file's identity, its checkpoint and errors file (a CLI: blocking I/O is fine here)."""
    sha256 = file_sha256(path)
    checkpoint = Checkpoint(path.with_name(path.name + ".checkpoint.json"), sha256)
    errors = ErrorFile(path.with_name(path.name + ".errors.csv"), checkpoint.line)
    return sha256, os.path.getsize(path), checkpoint, errors


async def import_file(
    path: Path,
    base_url: str,
    token: str,
    options: Options | None = None,
    progress: Callable[[int, Totals], None] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Totals:
    """Import `path` (NDJSON, or CSV by its `.csv` suffix); returns the run's totals.
    `transport` and `sleep` are for tests (a mock server, waits that take no time)."""
    options = options or Options()
    sha256, size, checkpoint, errors = _prepare(path)
    source = f"import:{sha256[:16]}"
    reader = read_csv if path.suffix.lower() == ".csv" else read_ndjson
    pacer = Pacer(limit=2, batch=min(100, options.max_batch), max_batch=options.max_batch)
    totals = Totals()
    started = time.monotonic()
    pending: dict[int, tuple[int, int]] = {}  # batch number → (last line, end offset) once settled
    next_to_save = 0
    failure: list[BaseException] = []
    tasks: set[asyncio.Task[None]] = set()

    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=options.timeout,
        transport=transport,
    ) as client:

        async def run(number: int, rows: list[Row], last_line: int, end: int) -> None:
            nonlocal next_to_save
            throttled = False
            try:
                throttled = await _send(client, rows, totals, errors, sleep=sleep) if rows else False
            except BaseException as error:  # noqa: BLE001 - reported once the loop stops
                failure.append(error)
                return
            finally:
                await pacer.release(throttled=throttled, max_concurrency=options.max_concurrency)
            pending[number] = (last_line, end)
            while next_to_save in pending:  # in file order only: no row below is unsettled
                line, offset = pending.pop(next_to_save)
                next_to_save += 1
                checkpoint.save(line, offset)
            if progress is not None:
                progress(checkpoint.offset, totals)

        with path.open("rb") as stream:
            rows = reader(stream, checkpoint.offset, checkpoint.line + 1, source)
            for number, batch in enumerate(_batches(rows, pacer, totals, errors)):
                if failure:
                    break
                await pacer.acquire()
                if options.max_rate:
                    ahead = totals.rows / options.max_rate - (time.monotonic() - started)
                    if ahead > 0:
                        await sleep(ahead)
                last_line, end = batch[-1].line, batch[-1].end
                task = asyncio.create_task(run(number, batch, last_line, end))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks)
        errors.close()
        totals.errors_in_file = errors.rows
        if failure:
            raise failure[0]
        checkpoint.save(max(checkpoint.line, totals.last_line), size, done=True)
    totals.seconds = time.monotonic() - started
    return totals
