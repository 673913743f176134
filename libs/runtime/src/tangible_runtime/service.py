"""ServiceRuntime: the infrastructure of one service instance and its background workers.

Built by each service's `bootstrap()`; started and stopped by the app's lifespan.
Nothing here connects at construction time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace import SpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from tangible_runtime.auth import RevocationList, TokenVerifier
from tangible_runtime.db import SessionFactory, create_engine, create_session_factory, ping
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.errors import is_transient
from tangible_runtime.kafka import KAFKA_WAIT_BACKOFF, KafkaClients
from tangible_runtime.logs import configure_logging, get_logger
from tangible_runtime.metrics import RuntimeMetrics, new_metrics
from tangible_runtime.retries import Backoff, retrying
from tangible_runtime.settings import ServiceSettings
from tangible_runtime.telemetry import instrument_engine, setup_tracing

log = get_logger(__name__)

Check = Callable[[], Awaitable[None]]

WORKER_RESTART_BACKOFF = Backoff(first=1.0, maximum=15.0, jitter=0.5)


@dataclass
class Worker:
    """A background loop. `stop` asks it to finish its current batch and return."""

    name: str
    run: Callable[[], Awaitable[None]]
    stop: Callable[[], None] | None = None


WorkerFactory = Callable[["ServiceRuntime"], Worker]


@dataclass
class ServiceRuntime:
    name: str
    settings: ServiceSettings
    clock: Clock = field(default_factory=SystemClock)
    span_processors: Sequence[SpanProcessor] = ()
    configure_logs: bool = True
    shutdown_grace_seconds: float = 10.0
    # a process (re)started while the broker is briefly away waits for it instead of exiting
    # (a crash loop's growing back-off would keep it down long after the broker is back);
    # None: KAFKA_STARTUP_WAIT_SECONDS, from which the chart also derives its startup probe
    kafka_startup_wait_seconds: float | None = None
    restart_backoff: Backoff = WORKER_RESTART_BACKOFF
    # the infrastructure `/readyz` checks (composition.readiness_needs): a role that answers from memory
    # stays in service through a database or broker blip
    readiness_needs: frozenset[str] = frozenset({"database", "kafka"})
    # serve /healthz and /readyz while Kafka is awaited (the serving process); tests and
    # embedded apps start synchronously, ready once their lifespan has started
    bind_before_ready: bool = False

    def __post_init__(self) -> None:
        self.metrics: RuntimeMetrics = new_metrics()
        self.clients = KafkaClients(self.settings.kafka)
        self.revocations = RevocationList()
        self.verifier: TokenVerifier | None = None
        self.readiness_checks: dict[str, Check] = {}
        self._engine: AsyncEngine | None = None
        self._session_factory: SessionFactory | None = None
        self._producer: AIOKafkaProducer | None = None
        self._workers: list[Worker] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # what /readyz reports while starting; None once started
        self.startup_detail: str | None = "starting"
        self.startup_error: BaseException | None = None
        # called when a background startup fails (the CLI stops the server: exit status 3)
        self.on_startup_failure: Callable[[], None] | None = None

    @property
    def engine(self) -> AsyncEngine:
        assert self._engine is not None, "runtime not started"
        return self._engine

    @property
    def session_factory(self) -> SessionFactory:
        assert self._session_factory is not None, "runtime not started"
        return self._session_factory

    @property
    def producer(self) -> AIOKafkaProducer:
        assert self._producer is not None, "runtime not started"
        return self._producer

    async def start(self) -> None:
        if self.configure_logs:
            configure_logging(self.settings.telemetry, self.name)
        setup_tracing(self.settings.telemetry, self.name, self.span_processors)
        self._engine = create_engine(
            self.settings.database_url,
            pool_size=self.settings.db_pool_size,
            pre_ping=self.settings.db_pool_pre_ping,
        )
        instrument_engine(self._engine)
        self._session_factory = create_session_factory(self._engine)
        self.startup_detail = "waiting for Kafka"
        self._producer = await self._start_producer()
        self.startup_detail = "starting workers"
        public_key = self.settings.auth.public_key
        if public_key is not None:
            self.verifier = TokenVerifier(
                public_key.get_secret_value(),
                issuer=self.settings.auth.issuer,
                revocations=self.revocations,
                leeway_seconds=self.settings.auth.leeway_seconds,
            )
        if "database" in self.readiness_needs:
            self.readiness_checks.setdefault("database", lambda: ping(self.engine))
        if "kafka" in self.readiness_needs:
            self.readiness_checks.setdefault("kafka", self._kafka_ready)

    async def _start_producer(self) -> AIOKafkaProducer:
        async def start() -> AIOKafkaProducer:
            producer = self.clients.producer()
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            return producer

        return await retrying(
            start,
            backoff=KAFKA_WAIT_BACKOFF,
            log_event="kafka_unreachable_at_start",
            retry_if=is_transient,
            within_seconds=(
                self.kafka_startup_wait_seconds
                if self.kafka_startup_wait_seconds is not None
                else self.settings.kafka.startup_wait_seconds
            ),
        )

    async def _kafka_ready(self) -> None:
        await self.producer.client.fetch_all_metadata()

    def start_worker(self, worker: Worker) -> None:
        self._workers.append(worker)
        self._tasks[worker.name] = asyncio.create_task(self._supervise(worker), name=worker.name)

    async def _supervise(self, worker: Worker) -> None:
        """Restart a crashed worker with backoff: a broker or database outage must not
        leave a pod that looks alive but no longer consumes. A worker that returns is done."""

        def log_crash(error: Exception, restarts: int) -> None:
            log.error("worker_crashed", worker=worker.name, restarts=restarts, exc_info=error)

        await retrying(worker.run, backoff=self.restart_backoff, on_failure=log_crash)

    def unhealthy_workers(self) -> list[str]:
        return [name for name, task in self._tasks.items() if task.done() and not task.cancelled()]

    async def stop(self) -> None:
        """Workers with a `stop` finish their batch within the grace period; the others
        (pollers whose work is a transaction that simply rolls back) are cancelled now."""
        graceful: list[asyncio.Task[None]] = []
        for worker in self._workers:
            task = self._tasks[worker.name]
            if worker.stop is not None:
                worker.stop()
                graceful.append(task)
            else:
                task.cancel()
        tasks = list(self._tasks.values())
        if graceful:
            _, pending = await asyncio.wait(graceful, timeout=self.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
        # a cancelled worker still runs its `finally` (a consumer leaving its group): bounded,
        # so that one stuck client cannot keep the process from stopping; what is left is named
        # (asyncio.wait refuses an empty set: a role without workers has nothing to wait for)
        stuck: set[asyncio.Task[None]] = set()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=self.shutdown_grace_seconds)
        if stuck:
            log.error("workers_stuck_at_shutdown", workers=_where_stuck(stuck))
        self._tasks.clear()
        self._workers.clear()
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), timeout=self.shutdown_grace_seconds)
            except TimeoutError:
                log.error("producer_stuck_at_shutdown")
            self._producer = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def _where_stuck(tasks: set[asyncio.Task[None]]) -> dict[str, str]:
    """Each stuck task's chain of awaited coroutines, outermost first (a task's own stack
    shows only its outermost frame), for the log."""
    found: dict[str, str] = {}
    for task in tasks:
        chain: list[str] = []
        awaited: Any = task.get_coro()
        while awaited is not None and getattr(awaited, "cr_frame", None) is not None:
            frame = awaited.cr_frame
            chain.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})")
            awaited = awaited.cr_await
        found[task.get_name()] = " -> ".join(chain) or "unknown"
    return found
