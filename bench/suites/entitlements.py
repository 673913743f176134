"""entitlements: check API throughput and latency per worker, and the metering consumer's rate
(how soon usage is visible in a check is in the freshness suite).

Processes (all real, on the shared infrastructure): an entitlements `api` worker (the one
measured), a `relay`, later a `consumer`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from bench import vegeta
from bench.flame import flame_graph
from bench.harness import Bench
from bench.licenses import import_licenses
from bench.report import Report
from bench.resources import peak_rss
from bench.vegeta import Target
from tangible_devstack.scenario import term_around
from tangible_runtime.kafka import KafkaClients
from tangible_schemas import KafkaRecord, record_key
from tangible_schemas.registry import USAGE
from tangible_schemas.usage import UsageRecorded

SUITE = "entitlements"
TENANT = "bench-entitlements"
ACCOUNTS = 500
TERM = term_around(datetime.now(UTC))  # the services run on the wall clock
CHECK_SECONDS = 8.0
FIXED_RATE = 2000.0
MAX_THROUGHPUT_WORKERS = (8, 32)  # keep-alive connections, each sending back to back
LOAD_SHARES = (0.25, 0.5, 0.75, 0.9)  # open-loop check latency at these shares of the maximum
SERIES_SECONDS = 6.0
METERING_EVENTS = 60_000
FEATURE = "reports"


async def provision(base: str, admin: str) -> None:
    """The reports feature, the pro plan and licenses for acct-0…acct-ACCOUNTS (the last one probes)."""
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                "/v1/features",
                {
                    "key": FEATURE,
                    "name": "Reports",
                    "kind": "metered",
                    "meter": {
                        "event_type": "report.generated",
                        "aggregation": "count",
                        "reset_period": "month",
                    },
                    "outcome": "Board-ready reports",
                    "impact_metric": "hours saved",
                    "impact_per_unit": 0.25,
                },
            ),
            ("/v1/features", {"key": "sso", "name": "SSO", "kind": "boolean"}),
            (
                "/v1/plans",
                {
                    "key": "pro",
                    "name": "Pro",
                    "features": {FEATURE: {"limit": 1e9, "hard": False}, "sso": {}},
                },
            ),
            ("/v1/plans/pro/versions/1/publish", {}),
        ]
        for path, body in steps:
            (await client.post(path, json=body)).raise_for_status()
        licenses = [
            {"account_id": f"acct-{i}", "plan_key": "pro", "term_start": TERM[0], "term_end": TERM[1]}
            for i in range(ACCOUNTS + 1)  # + the probe account
        ]
        await import_licenses(client, licenses)


def _add(report: Report, name: str, value: float, unit: str, **conditions: Any) -> None:
    report.add(SUITE, name, value, unit, **conditions)


def host_port(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _check_targets(base: str, read: str) -> list[Target]:
    headers = {"Authorization": f"Bearer {read}"}
    return [
        Target("GET", f"{base}/v1/accounts/acct-{i}/entitlements/{FEATURE}", headers) for i in range(ACCOUNTS)
    ]


def _measure_checks(base: str, pid: int, read: str, report: Report) -> float:
    targets = _check_targets(base, read)
    vegeta.max_throughput(targets, seconds=2.0, workers=16)  # warm up
    best = max(
        (
            vegeta.max_throughput(targets, seconds=CHECK_SECONDS, workers=w, server_pid=pid)
            for w in MAX_THROUGHPUT_WORKERS
        ),
        key=lambda r: r.throughput,
    )
    assert set(best.status_codes) == {200}, best.status_codes
    conditions = {"seconds": CHECK_SECONDS, "generator": "vegeta closed loop, GOMAXPROCS=1", **best.costs()}
    _add(report, "check API max throughput (1 worker)", best.throughput, "req/s", **conditions)
    fixed = vegeta.fixed_rate(targets, rate=FIXED_RATE, seconds=CHECK_SECONDS, server_pid=pid)
    # 0: no answer within vegeta's timeout, counted in `errors`; any other status is a bug
    assert set(fixed.result.status_codes) - {0} <= {200}, fixed.result.status_codes
    conditions = fixed.honesty()
    _add(report, "check latency p50 at fixed rate", fixed.result.p50 * 1000, "ms", **conditions)
    _add(report, "check latency p99 at fixed rate", fixed.result.p99 * 1000, "ms", **conditions)
    _add(report, "check latency max at fixed rate", fixed.result.max * 1000, "ms", **conditions)
    return best.throughput


def _check_latency_series(base: str, pid: int, read: str, maximum: float, report: Report) -> None:
    """p50/p99 at fixed shares of the measured maximum, open loop."""
    targets = _check_targets(base, read)
    points = []
    for share in LOAD_SHARES:
        rate = round(share * maximum)
        fixed = vegeta.fixed_rate(targets, rate=rate, seconds=SERIES_SECONDS, server_pid=pid)
        p50, p99 = fixed.result.p50 * 1000, fixed.result.p99 * 1000
        conditions = {**fixed.honesty(), "share_of_max": share}
        _add(report, f"check latency p50 at {share:.0%} of max", p50, "ms", **conditions)
        _add(report, f"check latency p99 at {share:.0%} of max", p99, "ms", **conditions)
        points.append({"offered": rate, "achieved": fixed.result.throughput, "p50_ms": p50, "p99_ms": p99})
    report.add_series("entitlements: check API requests/s, 1 worker", points)


def usage_record(account: str, at: datetime) -> KafkaRecord:
    """A usage.v1 record as usage-ingest writes it (orjson, binary-mode headers): building it
    through the models would make the generator, not the service, the bottleneck."""
    event_id = str(uuid.uuid4())
    value = orjson.dumps(
        {
            "tenant_id": TENANT,
            "account_id": account,
            "event_id": event_id,
            "event_source": "bench",
            "usage_type": "report.generated",
            "occurred_at": at,
            "quantity": 1.0,
            "user_id": f"u{len(account) % 7}",
            "properties": {},
        },
        option=orjson.OPT_UTC_Z,
    )
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", b"tangible/usage-ingest"),
        ("ce_type", UsageRecorded.event_type.encode()),
        ("ce_subject", account.encode()),
        ("ce_time", at.isoformat().encode()),
        ("ce_tenantid", TENANT.encode()),
        ("content-type", b"application/json"),
    ]
    return KafkaRecord(USAGE.name, record_key(TENANT, account), value, headers)


async def _produce_usage(bench: Bench, count: int) -> None:
    clients = KafkaClients(bench.kafka_settings)
    producer = clients.producer(linger_ms=20)
    await producer.start()
    try:
        now = datetime.now(UTC)
        futures = []
        for i in range(count):
            record = usage_record(f"acct-{i % ACCOUNTS}", now)
            futures.append(
                await producer.send(
                    clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


_HANDLED = re.compile(
    rb'consumer_records_total\{consumer="entitlements-usage",outcome="handled"\} ([0-9.e+]+)'
)


async def _handled(client: httpx.AsyncClient) -> float:
    match = _HANDLED.search((await client.get("/metrics")).content)
    return float(match.group(1)) if match else 0.0


async def _measure_consumer(base: str, total: int, report: Report) -> None:
    """Records handled per second between the first poll that saw progress and the last."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        first: tuple[float, float] | None = None
        started = deadline = time.perf_counter()
        deadline += 600
        lags: list[dict[str, float]] = []
        while time.perf_counter() < deadline:
            handled = await _handled(client)
            now = time.perf_counter()
            lags.append({"t": round(now - started, 2), "lag": total - handled})
            if first is None and handled > 0:
                first = (now, handled)
            if handled >= total:
                break
            await asyncio.sleep(0.1)
        assert first is not None and handled >= total, f"consumed {handled} of {total}"
        rate = (handled - first[1]) / max(now - first[0], 1e-9)
    _add(report, "metering consumer throughput", rate, "events/s", events=total, batch=3000)
    report.add_series("entitlements_metering_lag", lags[::5])  # every 0.5 s


def run(bench: Bench, report: Report) -> None:
    database = bench.database("entitlements")
    api = bench.start_service("entitlements", roles="api", database_url=database)
    bench.start_service("entitlements", roles="relay", database_url=database)
    asyncio.run(provision(api, bench.token(TENANT, "admin")))
    time.sleep(2)  # the worker's view takes the new licenses from the events
    read = bench.token(TENANT, "read")
    with peak_rss(bench, report, SUITE, {"entitlements api": api}, "check API at max requests/s"):
        maximum = _measure_checks(api, bench.pid(api), read, report)
    _check_latency_series(api, bench.pid(api), read, maximum, report)

    asyncio.run(_produce_usage(bench, METERING_EVENTS))
    consumer = bench.start_service("entitlements", roles="consumer", database_url=database)
    load = "draining 60,000 usage events"
    with (
        peak_rss(bench, report, SUITE, {"entitlements consumer": consumer}, load),
        flame_graph(bench, report, SUITE, "entitlements metering consumer", consumer, load),
    ):
        asyncio.run(_measure_consumer(consumer, METERING_EVENTS, report))
