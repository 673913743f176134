"""`python -m chaos.overload [--rate N] [--seconds S]` (`make overload`): overload, long form.

The system runs as the bench runs it (embedded Kafka and PostgreSQL, each service role its
own process): usage-ingest's api; entitlements' api, consumer and relay; rewards' and
notifications' consumers. Producer processes of tangible-clients record usage at `--rate`
events/s for `--seconds` — by default three times the entitlements consumer's fold rate in
docs/performance.md, the stage that bounds the sustained pipeline rate — then close their
clients, which deliver whatever they still hold.

PASSED when: ingest shed load (503 or 429, each with Retry-After), no client reported an
event failed, the usage topic holds exactly one record per event given to the clients,
entitlements counted every one of them, every consumer group caught up, and no process's
peak RSS reached its Helm memory limit. Report: chaos/reports/overload-latest.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import httpx

from bench.harness import bench_environment
from bench.ingest_load import percentiles_ms
from bench.resources import PeakRss
from bench.suites.entitlements import TENANT, provision
from chaos.overload.observe import memory_limit_mib, metric
from chaos.overload.report import write_report
from chaos.pipeline import (
    FOLD_RATE,
    ROLES,
    converge,
    producer_plan,
    producer_results,
    start_producers,
    start_roles,
)

DEFAULT_RATE = 3 * FOLD_RATE


async def _window(ingest: str, start_at: float, seconds: float) -> tuple[dict[str, float], dict[str, float]]:
    """The ingest counters as the window opens and as it closes."""
    await asyncio.sleep(max(0.0, start_at - time.time()))
    before = await _snapshot(ingest)
    await asyncio.sleep(max(0.0, start_at + seconds - time.time()))
    return before, await _snapshot(ingest)


async def _snapshot(ingest: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=ingest, timeout=30) as client:
        return {
            "accepted": await metric(client, "ingest_events_total", outcome="accepted"),
            "duplicate": await metric(client, "ingest_events_total", outcome="duplicate"),
            "shed": await metric(client, "ingest_shed_requests_total"),
            "rate_limited": await metric(client, "ingest_rate_limited_requests_total"),
        }


def main() -> int:
    parser = argparse.ArgumentParser(prog="chaos.overload", description=__doc__)
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help="offered events/s (default %(default)s)"
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--producers", type=int, default=2, help="load-generating processes")
    parser.add_argument("--clients", type=int, default=16, help="tangible-clients per producer process")
    parser.add_argument("--max-events-in-flight", type=int, help="USAGE_INGEST_MAX_EVENTS_IN_FLIGHT")
    parser.add_argument("--converge-timeout", type=float, default=900.0)
    args = parser.parse_args()
    env = {}
    if args.max_events_in_flight:
        env["USAGE_INGEST_MAX_EVENTS_IN_FLIGHT"] = str(args.max_events_in_flight)
    with bench_environment() as bench:
        bases, _ = start_roles(bench, ROLES, {"usage-ingest": env})
        ingest, entitlements = bases[("usage-ingest", "api")], bases[("entitlements", "api")]
        asyncio.run(provision(entitlements, bench.token(TENANT, "admin")))
        time.sleep(2)  # the check view takes the new licenses from the events
        pids = {f"{service} {role}": bench.pid(base) for (service, role), base in bases.items()}
        limits = {f"{service} {role}": memory_limit_mib(service, role) for service, role in ROLES}
        plan = producer_plan(bench, ingest, rate=args.rate, seconds=args.seconds, clients=args.clients)
        print(
            f"[overload] offering {args.rate:,.0f} events/s for {args.seconds:.0f} s to {ingest}", flush=True
        )
        with PeakRss(pids) as rss:
            processes, queue = start_producers(plan, args.producers)
            before, after = asyncio.run(_window(ingest, plan.start_at, args.seconds))
            results = producer_results(processes, queue, timeout=900)
            given = sum(r.recorded for r in results)
            print(f"[overload] {given:,} events given to the clients; waiting for convergence", flush=True)
            convergence = asyncio.run(converge(bench, entitlements, given, args.converge_timeout))
            final = asyncio.run(_snapshot(ingest))
        latencies = [
            latency for r in results for at, latency in r.accepted_latencies if 0 <= at <= args.seconds
        ]
        p50, p99 = percentiles_ms(latencies, 50, 99)
        figures = {
            "offered_rate": args.rate,
            "seconds": args.seconds,
            "recorded_rate": sum(r.recorded for r in results) / args.seconds,
            "accepted_rate": (after["accepted"] - before["accepted"]) / args.seconds,
            "accepted_requests_in_window": len(latencies),
            "accepted_p50_ms": p50,
            "accepted_p99_ms": p99,
            "shed_requests_in_window": after["shed"] - before["shed"],
            "rate_limited_requests_in_window": after["rate_limited"] - before["rate_limited"],
            "shed_requests_total": final["shed"],
            "events_given": given,
            "events_accepted_total": final["accepted"],
            "events_duplicate_total": final["duplicate"],
        }
        passed = write_report(
            figures=figures,
            results=results,
            convergence=convergence,
            peaks=rss.peaks,
            limits=limits,
            conditions={
                "producers": args.producers,
                "clients_per_producer": args.clients,
                "max_events_in_flight": args.max_events_in_flight or "default (5 × 1,000)",
                "cpus": os.cpu_count(),
                "load_average_1m": round(os.getloadavg()[0], 1),
            },
            reports_dir=Path(__file__).resolve().parents[1] / "reports",
        )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
