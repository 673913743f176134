"""TangibleClient: record usage events; a background task batches, sends and reports them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Required, Self, TypedDict

import httpx

from tangible_client.batching import Batching, Buffer, Pending
from tangible_client.events import EncodedEvent, batch_size, encode_event
from tangible_client.reports import DeliveryReport, DeliveryStatus, Reason
from tangible_client.retry import RetryPolicy
from tangible_client.sender import BatchSender

log = logging.getLogger("tangible_client")

DeliveryCallback = Callable[[DeliveryReport], None]
USER_AGENT = "tangible-client/0.1.0"


class ClientOptions(TypedDict, total=False):
    """TangibleClient's keyword arguments, for wrappers that pass them through."""

    token: Required[str]
    source: Required[str]
    batching: Batching | None
    retry: RetryPolicy | None
    on_delivery: DeliveryCallback | None
    keep_reports: int
    timeout: float
    transport: httpx.AsyncBaseTransport | None


class ClientClosedError(RuntimeError):
    """record() or flush() on a client that is closing or closed."""


class TangibleClient:
    """Async producer client of usage-ingest: `await record(...)`, then `flush()` or `aclose()`."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        source: str,
        batching: Batching | None = None,
        retry: RetryPolicy | None = None,
        on_delivery: DeliveryCallback | None = None,
        keep_reports: int = 100_000,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._source = source
        self._batching = batching or Batching()
        self._on_delivery = on_delivery
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            # The server may hold a request up to its Kafka publish timeout before a 503.
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
        )
        self._sender = BatchSender(self._http, retry or RetryPolicy())
        self._buffer = Buffer(self._batching)
        self._slots = asyncio.Semaphore(self._batching.max_buffered)
        self._wakeup = asyncio.Event()
        self._settled = asyncio.Condition()
        self._recorded = 0  # seq of the last recorded event; events settle in this order
        self._settled_seq = 0
        self._urgent_upto = 0  # flush(): send up to this seq without lingering
        self._in_flight: list[Pending] = []
        self._reports: deque[tuple[int, DeliveryReport]] = deque(maxlen=keep_reports)
        self._warned_dropped = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def record(
        self,
        type: str,
        account_id: str,
        quantity: float = 1,
        *,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        time: datetime | None = None,
        id: str | None = None,
        source: str | None = None,
    ) -> str:
        """Buffer one usage event and return its id; waits while `max_buffered` events are unsettled."""
        self._ensure_open()
        event = encode_event(
            type=type,
            account_id=account_id,
            source=source or self._source,
            quantity=quantity,
            user_id=user_id,
            properties=properties,
            time=time,
            id=id,
        )
        if batch_size(len(event.body), 1) > self._batching.max_bytes:
            raise ValueError(f"the event is larger than max_bytes ({self._batching.max_bytes})")
        await self._slots.acquire()
        try:
            self._ensure_open()  # aclose() may have begun while we waited for space
        except ClientClosedError:
            self._slots.release()
            raise
        self._start()
        self._recorded += 1
        self._buffer.append(Pending(self._recorded, asyncio.get_running_loop().time(), event))
        if len(self._buffer) == 1 or self._buffer.has_full_batch():
            self._wakeup.set()  # start the linger timer, or send the full batch now
        return event.id

    async def flush(self) -> list[DeliveryReport]:
        """Send everything recorded so far now; return the reports no earlier flush returned."""
        if self._closed:
            raise ClientClosedError("the client is closed")
        target = self._recorded
        if target > self._settled_seq:
            self._urgent_upto = max(self._urgent_upto, target)
            self._wakeup.set()
            async with self._settled:
                await self._settled.wait_for(lambda: self._settled_seq >= target)
        return self._take_reports(target)

    async def aclose(self, timeout: float | None = None) -> list[DeliveryReport]:
        """Flush, then stop; events still unsent after `timeout` seconds are reported failed."""
        if self._closed:
            return []
        self._closing = True
        self._wakeup.set()
        try:
            if self._task is not None:
                await asyncio.wait({self._task}, timeout=timeout)
        finally:
            if self._task is not None:
                if not self._task.done():
                    self._task.cancel()
                    await asyncio.wait({self._task})
                if not self._task.cancelled() and self._task.exception() is not None:
                    log.error("the sender task failed", exc_info=self._task.exception())
            await self._fail_unsettled()
            self._closed = True
            await self._http.aclose()
        return self._take_reports(self._recorded)

    def _ensure_open(self) -> None:
        if self._closing:
            raise ClientClosedError("the client is closed")

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tangible-client-sender")

    async def _run(self) -> None:
        while (batch := await self._next_batch()) is not None:
            self._in_flight = batch
            reports = await self._send([p.event for p in batch])
            await self._settle(batch, reports)

    async def _next_batch(self) -> list[Pending] | None:
        loop = asyncio.get_running_loop()
        while True:
            oldest = self._buffer.oldest()
            wait: float | None = None
            if oldest is not None:
                wait = oldest.recorded_at + self._batching.linger - loop.time()
                if (
                    wait <= 0
                    or self._closing
                    or oldest.seq <= self._urgent_upto
                    or self._buffer.has_full_batch()
                ):
                    return self._buffer.take_batch()
            elif self._closing:
                return None
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _send(self, events: Sequence[EncodedEvent]) -> list[DeliveryReport]:
        try:
            return await self._sender.send(events)
        except Exception as error:
            # A bug must not kill the sender task and leave flush() waiting forever.
            log.exception("tangible-client could not send a batch")
            reason = Reason("client-error", f"{type(error).__name__}: {error}")
            return [DeliveryReport(e.id, DeliveryStatus.FAILED, (reason,)) for e in events]

    async def _settle(self, batch: Sequence[Pending], reports: Sequence[DeliveryReport]) -> None:
        for item, report in zip(batch, reports, strict=True):
            self._keep(item.seq, report)
            self._notify(report)
            self._slots.release()
        self._in_flight = []
        async with self._settled:
            self._settled_seq = max(self._settled_seq, batch[-1].seq)
            self._settled.notify_all()

    async def _fail_unsettled(self) -> None:
        pending = [*self._in_flight, *self._buffer.take_all()]
        if not pending:
            return
        # In-flight events may have reached the server; re-sending them with the same
        # ids later is safe and would come back as "duplicate".
        reason = Reason("closed-before-confirmed", "the client closed before the server confirmed the event")
        await self._settle(
            pending, [DeliveryReport(p.event.id, DeliveryStatus.FAILED, (reason,)) for p in pending]
        )

    def _keep(self, seq: int, report: DeliveryReport) -> None:
        if self._reports.maxlen and len(self._reports) == self._reports.maxlen and not self._warned_dropped:
            self._warned_dropped = True
            log.warning("more than %d reports waiting for flush(); dropping the oldest", self._reports.maxlen)
        self._reports.append((seq, report))

    def _notify(self, report: DeliveryReport) -> None:
        if self._on_delivery is None:
            return
        try:
            self._on_delivery(report)
        except Exception:
            log.exception("on_delivery callback failed for event %s", report.id)

    def _take_reports(self, upto: int) -> list[DeliveryReport]:
        taken = []
        while self._reports and self._reports[0][0] <= upto:
            taken.append(self._reports.popleft()[1])
        return taken
