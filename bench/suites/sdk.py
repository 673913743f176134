"""sdk: the entitlements SDK (tangible_client.entitlements) beside the HTTP check path.

- in-process checks from the local view: checks/s on one core and per-check p99, with 10,000
  accounts x 20 features in the view (5 metered with per-account usage), and that view's memory;
- change -> visible: a grant made through the API until a subscribed SDK holding every
  account of the tenant (10,000) shows it (the grant's own API call included);
- the HTTP check path on the same entitlements `api` worker, in the same run, server and
  generator pinned to a core each: max req/s (wrk) and p99 at 5,000 req/s open loop (vegeta).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench import vegeta, wrk
from bench.harness import Bench
from bench.licenses import import_licenses
from bench.report import Report
from bench.vegeta import Target
from tangible_client.entitlements import AsyncEntitlements, Entitlements
from tangible_client.entitlements.testing import account, entitlement, view_transport
from tangible_devstack.scenario import term_around

SUITE = "sdk"
TENANT = "bench-sdk"
ACCOUNTS = int(os.environ.get("BENCH_SDK_ACCOUNTS", "10000"))
FEATURES = [f"f{i:02d}" for i in range(20)]
METERED = set(FEATURES[:5])
CHECKS = 2_000_000
CHANGES = 100
HTTP_SECONDS = 8.0
FIXED_RATE = 5000.0
MAX_THROUGHPUT_CONNECTIONS = (8, 32)  # keep-alive connections, each sending back to back


def _add(report: Report, name: str, value: float, unit: str, **conditions: Any) -> None:
    report.add(SUITE, name, value, unit, **conditions)


def _synthetic_view() -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    found = {}
    for i in range(ACCOUNTS):
        rows = [
            entitlement(f, kind="metered", limit=1000, usage=float(i * 7 % 997))
            if f in METERED
            else entitlement(f)
            for f in FEATURES
        ]
        found[f"acct-{i}"] = account(f"acct-{i}", [(now, rows)], valid_until=now + timedelta(days=1))
    return found


def in_process(report: Report) -> None:
    accounts = _synthetic_view()
    sdk = Entitlements(
        "http://unused", token="t", stream=False, timeout=30.0, transport=view_transport(accounts)
    )
    try:
        gc.collect()
        tracemalloc.start()
        sdk.load(list(accounts))
        gc.collect()
        memory = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        _add(report, "view memory, 10k accounts x 20 features", memory / 2**20, "MiB", measured="tracemalloc")
        pairs = [(f"acct-{random.randrange(ACCOUNTS)}", random.choice(FEATURES)) for _ in range(100_000)]
        check = sdk.check
        rounds = CHECKS // len(pairs)
        started = time.perf_counter()
        for _ in range(rounds):
            for a, f in pairs:
                check(a, f)
        rate = rounds * len(pairs) / (time.perf_counter() - started)
        _add(report, "in-process checks/s (one thread)", rate, "checks/s", checks=rounds * len(pairs))
        clock = time.perf_counter_ns
        latencies = []
        for a, f in pairs * 5:
            t = clock()
            check(a, f)
            latencies.append(clock() - t)
        latencies.sort()
        conditions = {"samples": len(latencies), "includes": "perf_counter_ns overhead (~0.1 us)"}
        _add(report, "in-process check p50", latencies[len(latencies) // 2] / 1000, "us", **conditions)
        _add(report, "in-process check p99", latencies[int(len(latencies) * 0.99)] / 1000, "us", **conditions)
    finally:
        sdk.close()


async def provision(base: str, admin: str) -> None:
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        meter = {"event_type": "e", "aggregation": "count", "reset_period": "month"}
        for f in FEATURES:
            body: dict[str, Any] = {"key": f, "name": f, "kind": "metered" if f in METERED else "boolean"}
            if f in METERED:
                body["meter"] = {**meter, "event_type": f"{f}.used"}
            (await client.post("/v1/features", json=body)).raise_for_status()
        plan = {
            "key": "pro",
            "name": "Pro",
            "features": {f: ({"limit": 1000} if f in METERED else {}) for f in FEATURES[:15]},
        }
        (await client.post("/v1/plans", json=plan)).raise_for_status()
        (await client.post("/v1/plans/pro/versions/1/publish")).raise_for_status()
        term = term_around(datetime.now(UTC))
        licenses = [
            {"account_id": f"acct-{i}", "plan_key": "pro", "term_start": term[0], "term_end": term[1]}
            for i in range(ACCOUNTS)
        ]
        await import_licenses(client, licenses)


async def change_to_visible(base: str, admin: str, read: str, report: Report) -> None:
    async with AsyncEntitlements(base, token=read, whole_tenant=True, timeout=5.0) as sdk:
        deadline = time.perf_counter() + 120
        while not (sdk.fresh and len(sdk.view.accounts) >= ACCOUNTS):
            assert time.perf_counter() < deadline, "the SDK never held the whole tenant"
            await asyncio.sleep(0.1)
        headers = {"Authorization": f"Bearer {admin}"}
        delays = []
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            # distinct accounts: a repeated (account, feature) would already hold its grant
            for n, account in enumerate(random.sample(range(ACCOUNTS), CHANGES)):
                target = f"acct-{account}"
                feature = FEATURES[15 + n % 5]  # not on the plan: the grant turns it on
                before = sdk.check_cached(target, feature)
                assert before is not None and not before.has_access
                started = time.perf_counter()
                grant = {
                    "feature_key": feature,
                    "kind": "feature_override",
                    "value": {"enabled": True},
                    "reason": "bench",
                }
                (await client.post(f"/v1/accounts/{target}/grants", json=grant)).raise_for_status()
                while not sdk.check_cached(target, feature).has_access:  # type: ignore[union-attr]
                    assert time.perf_counter() - started < 30, "a change never arrived"
                    await asyncio.sleep(0.001)
                delays.append(time.perf_counter() - started)
                # revoke nothing: the next change is to another (account, feature)
        delays.sort()
        conditions = {
            "changes": CHANGES,
            "accounts_in_view": len(sdk.view.accounts),
            "includes": "the grant's API call",
        }
        _add(report, "change -> visible in SDK p50", delays[len(delays) // 2] * 1000, "ms", **conditions)
        _add(
            report, "change -> visible in SDK p99", delays[int(len(delays) * 0.99)] * 1000, "ms", **conditions
        )


def http_path(base: str, pid: int, read: str, report: Report) -> None:
    """Pinned (bench/wrk.py): the server on one core, the generator on the other. wrk for the
    maximum (vegeta's own cost per request caps it below the target), vegeta open loop for
    latency at a fixed rate."""
    headers = {"Authorization": f"Bearer {read}"}
    paths = [f"/v1/accounts/acct-{i}/entitlements/{FEATURES[0]}" for i in range(min(ACCOUNTS, 1000))]
    targets = [Target("GET", f"{base}{path}", headers) for path in paths]
    with wrk.pinned(pid) as cores:
        server_core, generator_core = cores if cores is not None else (None, None)
        wrk.max_throughput(base, paths, headers, seconds=2.0, connections=16, cpu=generator_core)  # warm up
        best = max(
            (
                wrk.max_throughput(
                    base,
                    paths,
                    headers,
                    seconds=HTTP_SECONDS,
                    connections=c,
                    server_pid=pid,
                    cpu=generator_core,
                )
                for c in MAX_THROUGHPUT_CONNECTIONS
            ),
            key=lambda r: r.throughput,
        )
        fixed = vegeta.fixed_rate(
            targets, rate=FIXED_RATE, seconds=HTTP_SECONDS, server_pid=pid, cpu=generator_core
        )
    pinning = {"server_core": server_core, "generator_core": generator_core}
    conditions = {
        "seconds": HTTP_SECONDS,
        "errors": best.non_2xx + best.socket_errors,
        "generator": "wrk closed loop, 1 thread",
        **pinning,
        **best.costs(),
    }
    _add(report, "HTTP check max throughput (1 worker)", best.throughput, "req/s", **conditions)
    honesty = {**fixed.honesty(), **pinning}
    _add(report, "HTTP check p50 at 5,000 req/s", fixed.result.p50 * 1000, "ms", **honesty)
    _add(report, "HTTP check p99 at 5,000 req/s", fixed.result.p99 * 1000, "ms", **honesty)


def run(bench: Bench, report: Report) -> None:
    in_process(report)
    database = bench.database("entitlements")
    api = bench.start_service("entitlements", roles="api", database_url=database)
    bench.start_service("entitlements", roles="relay", database_url=database)
    admin, read = bench.token(TENANT, "admin"), bench.token(TENANT, "read")
    asyncio.run(provision(api, admin))
    asyncio.run(change_to_visible(api, admin, read, report))
    http_path(api, bench.pid(api), read, report)
