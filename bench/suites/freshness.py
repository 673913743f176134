"""End-to-end freshness under background load of 1,000, 5,000 and 10,000 events/s: how soon usage
is visible in an entitlement check (from usage-ingest's 202; with
BENCH_FRESHNESS_KAFKA_TO_CHECK=1, at 10,000 /s also from its Kafka acknowledgement, the
entitlements part of the path alone), how soon a threshold it crosses becomes an in-app inbox
item, and how soon a milestone it reaches is a reward the account can see. Each phase lasts
12 s.

Processes: usage-ingest; entitlements as `api`, `consumer` and `relay` on one database (as
deployed: the check API is not slowed by metering); notifications with all roles; for the
milestone phases, rewards with all roles as well.


Inbox path: usage-ingest → usage.v1 → entitlements consumer (meters, crosses the threshold,
outbox) → relay → entitlements.v1 → notifications consumer (rule, inbox item). Each probe
account has a plan with a limit of one report, so its first event crosses 50, 80 and 100 %;
a probe starts every 200 ms and polls the account's unread count until the item is there.

Milestone path: usage-ingest → usage.v1 → rewards consumer (an account's first report reaches
a milestone: a reward and its credits) → the account's rewards list in the rewards API; probes
as for the inbox. Rewards joins last, its usage consumer group set to the end of the topic
(it would otherwise first work off every earlier phase's events), so that the check and inbox
figures stay comparable with earlier runs, which had no rewards process; in the milestone
phases every service works on the background usage.
Resident memory of each service is sampled during the 5,000 events/s run.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import uvloop
from aiokafka import TopicPartition

from bench.harness import Bench
from bench.http_load import Connection, get_request
from bench.ingest_load import Offered, ingest_client, offer, percentiles_ms, usage_batch
from bench.licenses import import_licenses
from bench.report import Report
from bench.resources import peak_rss
from bench.suites.entitlements import ACCOUNTS, FEATURE, host_port, provision, usage_record
from tangible_devstack.scenario import term_around
from tangible_rewards.entrypoints.consumers import USAGE_CONSUMER
from tangible_runtime.kafka import KafkaClients
from tangible_schemas.registry import USAGE

SUITE = "freshness"
TENANT = "bench-entitlements"  # provision() creates this tenant's catalog and licenses
RATES = (1000.0, 5000.0, 10000.0)  # 10,000: the freshness target of issue 20 is set at that rate
TERM = term_around(datetime.now(UTC))  # the services run on the wall clock
SECONDS = 12.0  # per phase; 12 phases, so each second here is 12 of `make bench`
PROBE_EVERY = 0.2  # 60 probes per phase
PROBES = int(SECONDS / PROBE_EVERY) + 10  # probe accounts per rate
# A diagnosis, not a target: only when asked, to keep `make bench` under 15 minutes.
KAFKA_TO_CHECK = os.environ.get("BENCH_FRESHNESS_KAFKA_TO_CHECK") == "1"
THRESHOLD_RULE = {
    "name": "usage alerts",
    "event_types": ["tangible.entitlements.v1.threshold_crossed"],
    "channels": ["inbox"],
    "template": {"title": "{{ data.feature_key }} at {{ data.threshold_percent }} %", "body": ""},
}
FIRST_REPORT = {
    "key": "first-report",
    "name": "First report",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 1},
    "reward": {"kind": "credits", "credits": "1.00"},
}


async def _provision(entitlements: str, notifications: str, admin: str) -> None:
    await provision(entitlements, admin)
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=entitlements, headers=headers, timeout=30) as client:
        plan = {"key": "probe", "name": "Probe", "features": {FEATURE: {"limit": 1, "hard": False}}}
        (await client.post("/v1/plans", json=plan)).raise_for_status()
        (await client.post("/v1/plans/probe/versions/1/publish", json={})).raise_for_status()
        accounts = [
            _probe(rate, k, path) for path in (INBOX, EARNED) for rate in RATES for k in range(PROBES)
        ]
        licenses = [
            {"account_id": account, "plan_key": "probe", "term_start": TERM[0], "term_end": TERM[1]}
            for account in accounts
        ]
        await import_licenses(client, licenses)
    async with httpx.AsyncClient(base_url=notifications, headers=headers, timeout=30) as client:
        (await client.post("/v1/rules", json=THRESHOLD_RULE)).raise_for_status()


def _probe(rate: float, k: int, resource: str) -> str:
    """A probe account of its own per rate and path: its first event crosses every threshold
    (and reaches the first-report milestone)."""
    return f"probe-{resource.split('/')[0]}-{rate:.0f}-{k}"


@dataclass(frozen=True)
class Seen:
    """Where a probe looks for what its event made: a service, the account's resource there,
    and when the answer shows it."""

    base: str
    resource: str
    there: Callable[[Any], bool]


INBOX = "inbox/unread-count"
EARNED = "rewards"


async def _ingest_to_seen(ingest: str, seen: Seen, bench: Bench, rate: float) -> tuple[list[float], Offered]:
    """Seconds from each probe's 202 until `seen` shows it, under background usage at `rate`."""
    samples: list[float] = []
    missed = 0
    stop = time.perf_counter() + SECONDS
    read = {"Authorization": f"Bearer {bench.token(TENANT, 'read')}"}
    async with (
        ingest_client(ingest, bench.token(TENANT, "ingest")) as client,
        httpx.AsyncClient(base_url=seen.base, headers=read, timeout=30) as reader,
    ):

        async def probe(account: str) -> None:
            nonlocal missed
            try:
                response = await client.post("/v1/events", content=usage_batch(lambda _: account, 1))
            except httpx.HTTPError:
                missed += 1
                return
            accepted = time.perf_counter()
            if response.status_code != 202:
                missed += 1
                return
            while time.perf_counter() - accepted < 30:
                try:
                    answer = await reader.get(f"/v1/accounts/{account}/{seen.resource}")
                except httpx.HTTPError:  # a keep-alive connection the server closed as we reused it
                    continue
                if answer.status_code == 200 and seen.there(answer.json()):
                    samples.append(time.perf_counter() - accepted)
                    return
                await asyncio.sleep(0.02)
            missed += 1

        async def probes() -> None:
            tasks = []
            for k in range(PROBES):
                if time.perf_counter() >= stop:
                    break
                tasks.append(asyncio.create_task(probe(_probe(rate, k, seen.resource))))
                await asyncio.sleep(PROBE_EVERY)
            await asyncio.gather(*tasks)

        offered, _ = await asyncio.gather(offer(client, rate, stop, ACCOUNTS), probes())
    if missed:
        print(f"  {missed} probes saw nothing in {seen.resource} within 30 s", flush=True)
    return samples, offered


def _probe_check(bench: Bench, check: str) -> tuple[str, int, bytes]:
    """Where to check the probe account, and the raw request that does it."""
    host, port = host_port(check)
    path = f"/v1/accounts/acct-{ACCOUNTS}/entitlements/{FEATURE}"
    return host, port, get_request(host, path, {"Authorization": f"Bearer {bench.token(TENANT, 'read')}"})


async def _ingest_to_check(ingest: str, check: str, bench: Bench, report: Report, rate: float) -> None:
    """Background usage at `rate`; every 50 ms one probe event, then the time from its
    202 until a check of the probe account shows it."""
    host, port, read = _probe_check(bench, check)
    samples: list[float] = []
    stop = time.perf_counter() + SECONDS
    async with ingest_client(ingest, bench.token(TENANT, "ingest")) as client:

        async def probe() -> None:
            connection = await Connection.open(host, port)

            async def usage() -> float:
                nonlocal connection
                for _ in range(3):  # the server closes keep-alive connections idle for 5 s
                    try:
                        return float(orjson.loads((await connection.request(read))[1])["usage"])
                    except (OSError, asyncio.IncompleteReadError):
                        connection.close()
                        connection = await Connection.open(host, port)
                raise RuntimeError("the check API keeps closing the connection")

            expected = await usage()
            while time.perf_counter() < stop:
                body = usage_batch(lambda _: f"acct-{ACCOUNTS}", 1)
                try:
                    response = await client.post("/v1/events", content=body)
                except httpx.HTTPError:
                    continue  # an idle keep-alive connection closed as we sent: next probe
                accepted = time.perf_counter()
                if response.status_code != 202:
                    await asyncio.sleep(0.05)
                    continue
                expected += 1
                for _ in range(6000):  # poll every 5 ms, for 30 s at most
                    if await usage() >= expected:
                        break
                    await asyncio.sleep(0.005)
                samples.append(time.perf_counter() - accepted)
                await asyncio.sleep(max(0.0, 0.05 - (time.perf_counter() - accepted)))
            connection.close()

        offered, _ = await asyncio.gather(offer(client, rate, stop, ACCOUNTS), probe())
    conditions = {
        "offered_rate": rate,
        "accepted_rate": round(offered.rate),
        "probes": len(samples),
        "events_sent": offered.sent,
        "failed_requests": offered.failed,
    }
    _add_freshness(report, "ingest-to-check", samples, conditions)


async def _kafka_to_check(bench: Bench, check: str, report: Report, rate: float) -> None:
    """The entitlements part of the path alone: usage written to Kafka at `rate` (what a 202
    from usage-ingest means), probe events timed from their acknowledgement."""
    clients = KafkaClients(bench.kafka_settings)
    producer = clients.producer(linger_ms=5)
    await producer.start()
    host, port, read = _probe_check(bench, check)
    samples: list[float] = []
    stop = time.perf_counter() + SECONDS

    async def send(account: str) -> Any:
        record = usage_record(account, datetime.now(UTC))
        return await producer.send(
            clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
        )

    async def background() -> None:
        started, i = time.perf_counter(), 0
        while time.perf_counter() < stop:
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await send(f"acct-{i % ACCOUNTS}")
            i += 1

    async def probe() -> None:
        connection = await Connection.open(host, port)
        expected = float(orjson.loads((await connection.request(read))[1])["usage"])
        while time.perf_counter() < stop:
            await (await send(f"acct-{ACCOUNTS}"))
            acknowledged = time.perf_counter()
            expected += 1
            for _ in range(6000):
                if float(orjson.loads((await connection.request(read))[1])["usage"]) >= expected:
                    break
                await asyncio.sleep(0.005)
            samples.append(time.perf_counter() - acknowledged)
            await asyncio.sleep(max(0.0, 0.05 - (time.perf_counter() - acknowledged)))
        connection.close()

    try:
        await asyncio.gather(background(), probe())
    finally:
        await producer.stop()
    _add_freshness(report, "kafka-to-check", samples, {"rate": rate, "probes": len(samples)})


def _add_freshness(report: Report, label: str, samples: list[float], conditions: dict[str, Any]) -> None:
    p50, p99 = percentiles_ms(samples, 50, 99)
    report.add(SUITE, f"{label} freshness p50", p50, "ms", **conditions)
    report.add(SUITE, f"{label} freshness p99", p99, "ms", **conditions)


async def _caught_up(*bases: str, timeout: float = 120.0) -> None:
    """Wait until the consumers behind `bases` report no lag: each phase starts from an empty
    backlog, not from what the previous phase's load left behind."""
    lag = re.compile(rb"^consumer_lag_records\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(timeout=10) as client:
        while time.perf_counter() < deadline:
            pages = [(await client.get(f"{base}/metrics")).content for base in bases]
            if all(float(v) == 0 for page in pages for v in lag.findall(page)):
                return
            await asyncio.sleep(0.5)


def run(bench: Bench, report: Report) -> None:
    database = bench.database("entitlements")
    entitlements = bench.start_service("entitlements", roles="api", database_url=database)
    metering = bench.start_service("entitlements", roles="consumer", database_url=database)
    relay = bench.start_service("entitlements", roles="relay", database_url=database)
    notifications = bench.start_service("notifications", roles="all")
    ingest = bench.start_service(
        "usage-ingest", env={"USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"}
    )
    asyncio.run(_provision(entitlements, notifications, bench.token(TENANT, "admin")))
    time.sleep(2)  # the check view and the consumers take the new licenses from the events
    if KAFKA_TO_CHECK:  # the entitlements part of the path alone, at the target's rate
        asyncio.run(_caught_up(metering))
        uvloop.run(_kafka_to_check(bench, entitlements, report, max(RATES)))
    for rate in RATES:
        asyncio.run(_caught_up(metering))
        uvloop.run(_ingest_to_check(ingest, entitlements, bench, report, rate))
    unread = Seen(notifications, INBOX, lambda body: body["unread"] > 0)
    for rate in RATES:
        asyncio.run(_caught_up(metering, notifications))
        samples, offered = uvloop.run(_ingest_to_seen(ingest, unread, bench, rate))
        _add_freshness(report, "ingest-to-inbox (threshold)", samples, _conditions(rate, offered, samples))
    asyncio.run(_join_at_the_end(bench, USAGE_CONSUMER, USAGE.name))
    rewards = bench.start_service("rewards", roles="all")
    asyncio.run(_post(rewards, "/v1/milestones", FIRST_REPORT, bench.token(TENANT, "admin")))
    services = {
        "usage-ingest (all roles)": ingest,
        "entitlements api": entitlements,
        "entitlements consumer": metering,
        "entitlements relay": relay,
        "notifications (all roles)": notifications,
        "rewards (all roles)": rewards,
    }
    earned = Seen(rewards, EARNED, lambda body: bool(body["rewards"]))
    for rate in RATES:
        sampling: AbstractContextManager[None] = nullcontext()
        if rate == max(RATES):
            sampling = peak_rss(bench, report, SUITE, services, f"pipeline at {rate:.0f} events/s")
        asyncio.run(_caught_up(metering, notifications, rewards))
        with sampling:
            samples, offered = uvloop.run(_ingest_to_seen(ingest, earned, bench, rate))
        label = "ingest-to-milestone (reward listed)"
        _add_freshness(report, label, samples, _conditions(rate, offered, samples))


def _conditions(rate: float, offered: Offered, samples: list[float]) -> dict[str, Any]:
    return {
        "offered_rate": rate,
        "accepted_rate": round(offered.rate),
        "failed_requests": offered.failed,
        "probes": len(samples),
    }


async def _join_at_the_end(bench: Bench, group: str, topic: str) -> None:
    """Commits the end of `topic` as `group`'s position: a consumer of that group that starts
    now reads only what is written from now on."""
    clients = KafkaClients(bench.kafka_settings)
    partitions = (await clients.partitions([topic]))[topic]
    consumer = clients.consumer(group=group)
    await consumer.start()
    try:
        assignment = [TopicPartition(clients.topic(topic), p) for p in partitions]
        consumer.assign(assignment)
        await consumer.commit(await consumer.end_offsets(assignment))
    finally:
        await consumer.stop()


async def _post(base: str, path: str, body: dict[str, Any], token: str) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        (await client.post(path, json=body)).raise_for_status()
