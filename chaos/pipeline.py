"""The running system as the long load runs (overload, soak) drive it: one process per
service role on the bench's embedded Kafka and PostgreSQL, producer processes of
tangible-clients offering usage at a fixed rate, and the wait for every consumer group to
catch up afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bench.harness import Bench, ServiceStart
from bench.suites.entitlements import ACCOUNTS, FEATURE, TENANT
from chaos.overload.observe import counted_usage, group_lags, usage_records
from chaos.overload.producer import ProducerPlan, ProducerResult, run_producer
from tangible_runtime.kafka import KafkaClients

Role = tuple[str, str]  # (service, role)

# docs/performance.md: the entitlements metering consumer folds 15,961 events/s on one process;
# it is the slowest stage every usage event goes through, so it sets the sustained rate
FOLD_RATE = 15_961
# the roles every usage event goes through, one process each, as the chart deploys them
ROLES: tuple[Role, ...] = (
    ("usage-ingest", "api"),
    ("entitlements", "api"),
    ("entitlements", "consumer"),
    ("entitlements", "relay"),
    ("rewards", "consumer"),
    ("notifications", "consumer"),
)
# all of `make run`'s roles but webhook delivery (no endpoint is configured in these runs)
ALL_ROLES: tuple[Role, ...] = (
    *ROLES,
    ("usage-ingest", "scheduler"),
    ("entitlements", "scheduler"),
    ("rewards", "relay"),
    ("rewards", "scheduler"),
    ("notifications", "relay"),
    ("notifications", "scheduler"),
)


def start_roles(
    bench: Bench, roles: Sequence[Role], env: Mapping[str, Mapping[str, str]] | None = None
) -> tuple[dict[Role, str], dict[str, str]]:
    """One process per (service, role), as the chart deploys them, each service on its own
    database; `env[service]` is added to that service's processes. Returns the base URLs
    and each service's database URL."""
    databases = {service: bench.database(service) for service in dict.fromkeys(s for s, _ in roles)}
    starts = [
        ServiceStart(service, role, databases[service], dict((env or {}).get(service, {})))
        for service, role in roles
    ]
    return dict(zip(roles, bench.start_services(starts), strict=True)), databases


def start_producers(plan: ProducerPlan, producers: int) -> tuple[list[Any], Any]:
    """`producers` processes sharing the plan's rate; their results arrive on the queue."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = []
    for index in range(producers):
        share = dataclasses.replace(plan, rate=plan.rate / producers, index=index)
        process = context.Process(target=run_producer, args=(share, queue), name=f"producer-{index}")
        process.start()
        processes.append(process)
    return processes, queue


def producer_results(processes: list[Any], queue: Any, timeout: float) -> list[ProducerResult]:
    results = [ProducerResult(**queue.get(timeout=timeout)) for _ in processes]
    for process in processes:
        process.join(30)
    return results


def producer_plan(bench: Bench, ingest: str, *, rate: float, seconds: float, clients: int) -> ProducerPlan:
    return ProducerPlan(
        base=ingest,
        token=bench.token(TENANT, "ingest"),
        rate=rate,
        seconds=seconds,
        clients=clients,
        accounts=ACCOUNTS,
        start_at=time.time() + 8,  # the producers' interpreters start meanwhile
        index=0,
    )


async def converge(bench: Bench, entitlements: str, expected: int, timeout: float) -> dict[str, Any]:
    """Wait until every consumer group caught up and entitlements counted `expected` events."""
    clients = KafkaClients(bench.kafka_settings)
    read = bench.token(TENANT, "read")
    started = time.monotonic()
    lags: dict[str, int] = {}
    counted = 0.0
    while time.monotonic() - started < timeout:
        lags = await group_lags(clients)
        if lags and not any(lags.values()):
            counted = await counted_usage(entitlements, read, ACCOUNTS, FEATURE)
            if counted >= expected:
                break
        await asyncio.sleep(2)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "lags": lags,
        "entitlements_counted": counted,
        "usage_topic_records": await usage_records(clients),
    }
