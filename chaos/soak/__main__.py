"""`python -m chaos.soak [--minutes M] [--rate N]` (`make soak`): the soak, long form.

Every role of every service runs as its own process (schedulers, relays and the inbox
pruner included), on the bench's embedded Kafka and PostgreSQL. Producer processes of
tangible-clients offer usage at `--rate` — by default half the sustained pipeline rate —
for `--minutes`; time-bound grants fall due all along (the scheduler announces each);
entitlement checks are probed open-loop; memory, lag and the inbox/outbox tables are sampled.
The inbox keeps ids `--inbox-retention-seconds` (short, so the run sees ids forgotten under
load; production keeps 8 days).

PASSED when, in the last window against the first after warm-up: RSS grew at most 10 %, the
p99 of checks and of ingest's 202s within 20 %, the outbox and the lag did not grow, the inbox
levelled off at its retention; every event given to a client was accepted, published and
counted exactly once; every grant due was announced; no process reached its Helm memory limit.
Report: chaos/reports/soak-latest.{json,md,png}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.harness import SPECS, Bench, bench_environment
from bench.resources import PeakRss
from bench.suites.entitlements import ACCOUNTS, FEATURE, TENANT, provision
from chaos.overload.observe import memory_limit_mib, metric
from chaos.overload.report import delivery_checks, memory_check
from chaos.pipeline import (
    ALL_ROLES,
    FOLD_RATE,
    Role,
    converge,
    producer_plan,
    producer_results,
    start_producers,
    start_roles,
)
from chaos.soak.observe import Observations, probe_checks, sample_until
from chaos.soak.report import write_report
from chaos.soak.verdict import Tolerances, Windows, p99_ms, steady_state_checks
from tangible_runtime.kafka import KafkaClients

SOAK_ROLES = ALL_ROLES
LATEST_BENCH = Path(__file__).resolve().parents[2] / "bench" / "reports" / "latest.json"
CONSUMING = ("entitlements", "rewards", "notifications")
EXPIRING_GRANTS = 120


def default_rate() -> float:
    """Half the sustained rate: the last bench report's whole-pipeline figure if it has one."""
    try:
        figures = json.loads(LATEST_BENCH.read_text())["figures"]
    except (OSError, ValueError, KeyError):
        figures = []
    found = [
        f["value"]
        for f in figures
        if f["suite"] == "pipeline" and f["name"] == "whole-pipeline sustained rate"
    ]
    return (found[0] if found and found[0] > 0 else FOLD_RATE) / 2


def _inbox_env(retention: float, prune_every: float) -> dict[str, dict[str, str]]:
    return {
        service: {
            f"{SPECS[service].env_prefix}INBOX_RETENTION_DAYS": repr(retention / 86400),
            f"{SPECS[service].env_prefix}INBOX_PRUNE_INTERVAL_SECONDS": repr(prune_every),
        }
        for service in CONSUMING
    }


async def _grant_expiring(base: str, admin: str, start_at: float, seconds: float) -> None:
    """Grants on the first accounts falling due one after the other across the run."""
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def grant(k: int) -> None:
            expires = datetime.fromtimestamp(start_at + (k + 1) * seconds / (EXPIRING_GRANTS + 1), UTC)
            body = {
                "feature_key": FEATURE,
                "kind": "feature_override",
                "value": {"limit": 2e9},
                "reason": "soak",
                "expires_at": expires.isoformat(),
            }
            (await client.post(f"/v1/accounts/acct-{k % ACCOUNTS}/grants", json=body)).raise_for_status()

        for first in range(0, EXPIRING_GRANTS, 20):
            await asyncio.gather(*(grant(k) for k in range(first, min(first + 20, EXPIRING_GRANTS))))


async def _grant_expiries(owner_url: str) -> dict[str, float]:
    """How many of the soak's grants fell due, were never announced, and the latest announcement."""
    connection = await asyncpg.connect(
        make_url(owner_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        row = await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE expires_at <= now() - interval '5 seconds') AS due,"
            " count(*) FILTER (WHERE expires_at <= now() - interval '5 seconds'"
            "                  AND expiry_announced_at IS NULL) AS missed,"
            " coalesce(max(extract(epoch FROM expiry_announced_at - expires_at)), 0) AS late"
            " FROM grants WHERE tenant_id = $1",
            TENANT,
        )
    finally:
        await connection.close()
    assert row is not None
    return {"due": float(row["due"]), "missed": float(row["missed"]), "late": float(row["late"])}


async def _observe(
    bench: Bench,
    bases: dict[Role, str],
    databases: dict[str, str],
    pids: dict[str, int],
    start_at: float,
    seconds: float,
) -> Observations:
    observations = Observations()
    until = start_at + seconds
    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(
        sample_until(
            observations,
            started=start_at,
            until=until,
            every=max(2.0, seconds / 180),
            pids=pids,
            databases={s: bench.owner(url) for s, url in databases.items() if s in CONSUMING},
            clients=KafkaClients(bench.kafka_settings),
        ),
        probe_checks(
            observations,
            base=bases[("entitlements", "api")],
            token=bench.token(TENANT, "read"),
            rate=20.0,
            started=start_at,
            until=until,
        ),
    )
    return observations


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chaos.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=default_rate(),
        help="offered events/s (default: half the whole-pipeline sustained rate of the last make bench, "
        "else half the entitlements consumer's fold rate: %(default)s)",
    )
    parser.add_argument("--warmup-minutes", type=float, default=2.0)
    parser.add_argument(
        "--window-minutes", type=float, default=5.0, help="the first and last windows compared"
    )
    parser.add_argument("--inbox-retention-seconds", type=float, default=300.0)
    parser.add_argument("--inbox-prune-interval-seconds", type=float, default=30.0)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="tangible-clients per producer process")
    parser.add_argument("--rss-growth", type=float, default=Tolerances.rss_growth)
    parser.add_argument("--p99-growth", type=float, default=Tolerances.p99_growth)
    parser.add_argument("--backlog-growth", type=float, default=Tolerances.backlog_growth)
    parser.add_argument("--reports-dir", type=Path, default=Path(__file__).resolve().parents[1] / "reports")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    seconds = args.minutes * 60
    windows = Windows.of(
        seconds,
        warmup=args.warmup_minutes * 60,
        window=args.window_minutes * 60,
        retention=args.inbox_retention_seconds,
        prune_every=args.inbox_prune_interval_seconds,
    )
    with bench_environment() as bench:
        env = _inbox_env(args.inbox_retention_seconds, args.inbox_prune_interval_seconds)
        bases, databases = start_roles(bench, SOAK_ROLES, env)
        print(f"[soak] {len(bases)} processes ready", flush=True)
        ingest, entitlements = bases[("usage-ingest", "api")], bases[("entitlements", "api")]
        admin = bench.token(TENANT, "admin")
        asyncio.run(provision(entitlements, admin))
        time.sleep(2)  # the check view takes the new licenses from the events
        plan = producer_plan(bench, ingest, rate=args.rate, seconds=seconds, clients=args.clients)
        asyncio.run(_grant_expiring(entitlements, admin, plan.start_at, seconds))
        pids = {f"{service} {role}": bench.pid(base) for (service, role), base in bases.items()}
        limits = {f"{service} {role}": memory_limit_mib(service, role) for service, role in SOAK_ROLES}
        print(f"[soak] offering {args.rate:,.0f} events/s for {args.minutes:g} min to {ingest}", flush=True)
        with PeakRss(pids) as rss:
            processes, queue = start_producers(plan, args.producers)
            observations = asyncio.run(_observe(bench, bases, databases, pids, plan.start_at, seconds))
            results = producer_results(processes, queue, timeout=900)
            given = sum(r.recorded for r in results)
            print(f"[soak] {given:,} events given to the clients; waiting for convergence", flush=True)
            convergence = asyncio.run(converge(bench, entitlements, given, 900))
        counters = asyncio.run(_ingest_counters(ingest))
        expiries = asyncio.run(_grant_expiries(bench.owner(databases["entitlements"])))
    ingest_latencies = [pair for r in results for pair in r.accepted_latencies]
    figures: dict[str, Any] = {
        "offered_rate": args.rate,
        "seconds": seconds,
        "events_given": given,
        "events_accepted_total": counters["accepted"],
        "accepted_rate": counters["accepted"] / seconds,
        "checks_probed": len(observations.check_latencies) + observations.check_failures,
        "check_failures": observations.check_failures,
        "check_p99_ms_first": p99_ms(observations.check_latencies, windows.first),
        "check_p99_ms_last": p99_ms(observations.check_latencies, windows.last),
        "ingest_p99_ms_first": p99_ms(ingest_latencies, windows.first),
        "ingest_p99_ms_last": p99_ms(ingest_latencies, windows.last),
        "grants_due": expiries["due"],
        "grant_announce_delay_max_s": expiries["late"],
        "convergence_seconds": convergence["seconds"],
        "peak_rss_mib": {name: round(peak, 1) for name, peak in rss.peaks.items()},
    }
    tolerances = Tolerances(
        rss_growth=args.rss_growth, p99_growth=args.p99_growth, backlog_growth=args.backlog_growth
    )
    checks = {
        **steady_state_checks(observations, ingest_latencies, windows, tolerances, args.rate),
        "every check answered": (
            observations.check_failures == 0 and bool(observations.check_latencies),
            f"{observations.check_failures} failed of {figures['checks_probed']:,}",
        ),
        "every time-bound grant that fell due was announced": (
            expiries["due"] > 0 and expiries["missed"] == 0,
            f"{expiries['due']:,.0f} due, {expiries['missed']:,.0f} not announced",
        ),
        **delivery_checks(
            given=given,
            results=results,
            convergence=convergence,
            accepted_total=counters["accepted"],
            duplicate_total=counters["duplicate"],
        ),
        **memory_check(rss.peaks, limits),
    }
    conditions = {
        "minutes": args.minutes,
        "warmup_minutes": args.warmup_minutes,
        "window_minutes": args.window_minutes,
        "producers": args.producers,
        "clients_per_producer": args.clients,
        "inbox_retention_s": args.inbox_retention_seconds,
        "tolerances": (
            f"rss {args.rss_growth:.0%}, p99 {args.p99_growth:.0%}, backlog {args.backlog_growth:.0%}"
        ),
        "processes": len(SOAK_ROLES),
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 1),
    }
    passed = write_report(
        observations=observations,
        ingest_latencies=ingest_latencies,
        windows=windows,
        figures=figures,
        checks=checks,
        conditions=conditions,
        reports_dir=args.reports_dir,
    )
    return 0 if passed else 1


async def _ingest_counters(ingest: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=ingest, timeout=30) as client:
        return {
            outcome: await metric(client, "ingest_events_total", outcome=outcome)
            for outcome in ("accepted", "duplicate")
        }


if __name__ == "__main__":
    raise SystemExit(main())
