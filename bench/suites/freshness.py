"""End-to-end freshness through three services: from usage-ingest's 202 to an in-app inbox
item after a usage threshold, under background load of 1,000 and 5,000 events/s.

Path: usage-ingest → usage.v1 → entitlements consumer (meters, crosses the threshold,
outbox) → relay → entitlements.v1 → notifications consumer (rule, inbox item). Each probe
account has a plan with a limit of one report, so its first event crosses 50, 80 and 100 %;
a probe starts every 250 ms and polls the account's unread count until the item is there.
Resident memory of each service is sampled during the 5,000 events/s run.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractContextManager, nullcontext

import httpx
import uvloop

from bench.harness import Bench
from bench.ingest_load import Offered, ingest_client, offer, percentiles_ms, usage_batch
from bench.report import Report
from bench.resources import peak_rss
from bench.suites.entitlements import ACCOUNTS, FEATURE, provision

SUITE = "freshness"
TENANT = "bench-entitlements"  # provision() creates this tenant's catalog and licenses
RATES = (1000.0, 5000.0)
SECONDS = 20.0
PROBE_EVERY = 0.25
PROBES = int(SECONDS / PROBE_EVERY) + 10  # probe accounts per rate
THRESHOLD_RULE = {
    "name": "usage alerts",
    "event_types": ["tangible.entitlements.v1.threshold_crossed"],
    "channels": ["inbox"],
    "template": {"title": "{{ data.feature_key }} at {{ data.threshold_percent }} %", "body": ""},
}


async def _provision(entitlements: str, notifications: str, admin: str) -> None:
    await provision(entitlements, admin)
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=entitlements, headers=headers, timeout=30) as client:
        plan = {"key": "probe", "name": "Probe", "features": {FEATURE: {"limit": 1, "hard": False}}}
        (await client.post("/v1/plans", json=plan)).raise_for_status()
        (await client.post("/v1/plans/probe/versions/1/publish", json={})).raise_for_status()
        semaphore = asyncio.Semaphore(16)

        async def license(account: str) -> None:
            async with semaphore:
                body = {
                    "account_id": account,
                    "plan_key": "probe",
                    "term_start": "2026-01-01",
                    "term_end": "2027-12-31",
                }
                (await client.post("/v1/licenses", json=body)).raise_for_status()

        await asyncio.gather(*(license(_probe(rate, k)) for rate in RATES for k in range(PROBES)))
    async with httpx.AsyncClient(base_url=notifications, headers=headers, timeout=30) as client:
        (await client.post("/v1/rules", json=THRESHOLD_RULE)).raise_for_status()


def _probe(rate: float, k: int) -> str:
    return f"probe-{rate:.0f}-{k}"


async def _run(ingest: str, notifications: str, bench: Bench, rate: float) -> tuple[list[float], Offered]:
    """Seconds from each probe's 202 to its first inbox item, and the background load."""
    samples: list[float] = []
    missed = 0
    stop = time.perf_counter() + SECONDS
    read = {"Authorization": f"Bearer {bench.token(TENANT, 'read')}"}
    async with (
        ingest_client(ingest, bench.token(TENANT, "ingest")) as client,
        httpx.AsyncClient(base_url=notifications, headers=read, timeout=30) as inbox,
    ):

        async def probe(account: str) -> None:
            nonlocal missed
            response = await client.post("/v1/events", content=usage_batch(lambda _: account, 1))
            accepted = time.perf_counter()
            if response.status_code != 202:
                missed += 1
                return
            while time.perf_counter() - accepted < 30:
                count = await inbox.get(f"/v1/accounts/{account}/inbox/unread-count")
                if count.status_code == 200 and count.json()["unread"] > 0:
                    samples.append(time.perf_counter() - accepted)
                    return
                await asyncio.sleep(0.02)
            missed += 1

        async def probes() -> None:
            tasks = []
            for k in range(PROBES):
                if time.perf_counter() >= stop:
                    break
                tasks.append(asyncio.create_task(probe(_probe(rate, k))))
                await asyncio.sleep(PROBE_EVERY)
            await asyncio.gather(*tasks)

        offered, _ = await asyncio.gather(offer(client, rate, stop, ACCOUNTS), probes())
    if missed:
        print(f"  {missed} probes saw no inbox item within 30 s", flush=True)
    return samples, offered


def run(bench: Bench, report: Report) -> None:
    entitlements = bench.start_service("entitlements", roles="all")
    notifications = bench.start_service("notifications", roles="all")
    ingest = bench.start_service(
        "usage-ingest", env={"USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"}
    )
    asyncio.run(_provision(entitlements, notifications, bench.token(TENANT, "admin")))
    time.sleep(2)  # the check view and the consumers take the new licenses from the events
    services = {
        "usage-ingest (all roles)": ingest,
        "entitlements (all roles)": entitlements,
        "notifications (all roles)": notifications,
    }
    for rate in RATES:
        sampling: AbstractContextManager[None] = nullcontext()
        if rate == max(RATES):
            sampling = peak_rss(bench, report, SUITE, services, f"pipeline at {rate:.0f} events/s")
        with sampling:
            samples, offered = uvloop.run(_run(ingest, notifications, bench, rate))
        p50, p99 = percentiles_ms(samples, 50, 99)
        conditions = {
            "offered_rate": rate,
            "accepted_rate": round(offered.rate),
            "probes": len(samples),
            "processes": "one per service, all roles",
        }
        report.add(SUITE, "ingest-to-inbox (threshold) freshness p50", p50, "ms", **conditions)
        report.add(SUITE, "ingest-to-inbox (threshold) freshness p99", p99, "ms", **conditions)
