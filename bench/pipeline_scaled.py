"""The pipeline suite's scaled-out step: scale-out shown, not assumed.

After the single-replica climb (whose processes are stopped by then), on fresh topics (their
own prefix, partitions as the registry and the chart create them: 12 for usage, 6 for the
entitlements and rewards topics) and fresh databases, every role runs as the climb ran it but
each consumer, relay and scheduler role twice, as a scaled-out chart or `make chaos
PROFILE=million` runs them (chaos.stack.REPLICATED_ROLES); the APIs stay single. One step is
held at the climb's best sustained rate, with the same verdict. During it one replica of each
usage consumer (entitlements' metering, rewards') is stopped with SIGTERM and started again
(BOUNCES): each leaves its consumer groups and joins them again, a rebalance of each group
both times, as chaos's "scale" fault does; early, so that the verdict's second half shows
whether the lag came back down after them.

Then, once every group caught up (chaos.pipeline.converge), every accepted event must have
been counted exactly once: per account, entitlements' usage counters and rewards' milestone
progress against the events ingest answered 202 for (chaos.invariants.compare_usage: a double
count where a service counted more, a loss where less), each usage consumer's inbox claims
against the accepted count, the usage topic's records against it, and ingest's own
accepted-events counter against the client's tally. Any difference is reported loudly (a note
and a line on stdout), and each figure should be 0.

Reported: sustained yes/no at that rate, CPU time per event per stage (replicas summed; a
bounced replica counts until its SIGTERM and from its restart's readiness), and the counts.
BENCH_PIPELINE_SCALED=0 skips the step (it adds about 2.5 minutes with the default 60 s hold:
137 s at load 9 on two cores, 58 of them starting 24 processes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections import defaultdict
from contextlib import ExitStack
from typing import Any

import asyncpg
import httpx

from bench.harness import Bench, ServiceStart
from bench.pipeline_hold import (
    HOLD_SECONDS,
    INGEST_ENV,
    ROLES,
    SUITE,
    CpuMeter,
    Step,
    configure,
    drained,
    hold,
    report_costs,
    report_step,
)
from bench.report import Report
from bench.suites.entitlements import FEATURE, TENANT
from chaos.invariants import compare_usage
from chaos.observe import USAGE_CONSUMERS
from chaos.overload.observe import metric
from chaos.pipeline import Role, converge
from chaos.stack import REPLICATED_ROLES
from tangible_runtime.kafka import KafkaClients
from tangible_schemas.registry import ENTITLEMENTS, REWARDS, USAGE

SCALED = os.environ.get("BENCH_PIPELINE_SCALED", "1") != "0"
REPLICAS = 2
PREFIX = "bench.pipeline-scaled."  # not under the climb's "bench.pipeline.": its own groups
LABEL = f"scaled out ({REPLICAS} replicas): "
# (role, when its second replica leaves, as a share of the hold): early, so that both have
# joined again (a restart's imports take 5 to 15 s on two busy cores) well before the second
# half, over which the verdict judges whether the lag came back down
BOUNCES: tuple[tuple[Role, float], ...] = (
    (("entitlements", "consumer"), 0.05),
    (("rewards", "consumer"), 0.1),
)
AWAY_SECONDS = 3.0  # between a replica's exit and its restart (chaos's scale events: 3 to 10 s)
CONVERGE_SECONDS = 300.0
USAGE_TYPE = "report.generated"
# service → its count of the accepted usage per account: entitlements' metered feature, and
# rewards' progress (the tenant's one rule, the milestone, counts every report.generated)
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "entitlements": (
        "SELECT account_id, sum(value) FROM usage_counters"
        " WHERE tenant_id = $1 AND feature_key = $2 GROUP BY 1",
        (TENANT, FEATURE),
    ),
    "rewards": ("SELECT account_id, sum(value) FROM progress WHERE tenant_id = $1 GROUP BY 1", (TENANT,)),
}


@dataclasses.dataclass
class Replica:
    name: str  # "<service> <role> #<n>", or "<service> <role>" for a single process
    base: str
    start: ServiceStart


async def _bounce(bench: Bench, meter: CpuMeter, replica: Replica, at: float, log: list[str]) -> None:
    """The replica leaves (SIGTERM: it leaves its groups) and, AWAY_SECONDS later, a new
    process takes its place (it joins them again)."""
    await asyncio.sleep(at)
    meter.leaving(replica.name)
    left = time.monotonic()
    exit_code = await asyncio.to_thread(bench.stop, replica.base)
    await asyncio.sleep(AWAY_SECONDS)
    [replica.base] = await asyncio.to_thread(bench.start_services, [replica.start])
    meter.joined(replica.name, bench.pid(replica.base))
    log.append(
        f"{replica.name} SIGTERMed at {at:.0f} s (exit {exit_code}),"
        f" ready again {time.monotonic() - left:.0f} s later"
    )


def _start(bench: Bench) -> tuple[list[Replica], dict[str, str]]:
    """Every role's processes, all started at once (their imports overlap), each service on its
    own fresh database; returns them and the databases."""
    databases = {service: bench.database(service) for service in dict.fromkeys(s for s, _ in ROLES)}
    replicas = [
        Replica(
            f"{service} {role}" + (f" #{n}" if role in REPLICATED_ROLES else ""),
            "",
            ServiceStart(service, role, databases[service], INGEST_ENV.get(service, {})),
        )
        for service, role in ROLES
        for n in range(1, (REPLICAS if role in REPLICATED_ROLES else 1) + 1)
    ]
    for replica, base in zip(replicas, bench.start_services([r.start for r in replicas]), strict=True):
        replica.base = base
    return replicas, databases


async def _counted(
    bench: Bench, databases: dict[str, str]
) -> dict[str, tuple[dict[str, dict[str, float]], int]]:
    """Per service: account → its count of the usage, and the usage consumer's inbox claims."""
    found: dict[str, tuple[dict[str, dict[str, float]], int]] = {}
    for service, (sql, args) in COUNTERS.items():
        url = bench.owner(databases[service]).replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch(sql, *args)
            claims = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = $1", USAGE_CONSUMERS[service]
            )
        finally:
            await connection.close()
        found[service] = ({r[0]: {USAGE_TYPE: float(r[1])} for r in rows if float(r[1])}, int(claims))
    return found


async def _ingest_accepted(ingest: str) -> float:
    async with httpx.AsyncClient(base_url=ingest, timeout=30) as client:
        return await metric(client, "ingest_events_total", outcome="accepted")


def _report_counts(
    report: Report, step: Step, counted: dict[str, Any], convergence: dict[str, Any], ingest_total: float
) -> list[str]:
    """Counted against accepted, per service; returns the mismatches."""
    expected = {account: {USAGE_TYPE: float(n)} for account, n in step.tally.items()}
    accepted = sum(step.tally.values())
    wrong: list[str] = []
    for service, (observed, claims) in counted.items():
        problems, extra, lost = compare_usage(expected, observed)
        report.add(
            SUITE,
            f"{LABEL}{service}: accepted events counted twice",
            extra,
            "events",
            accepted=accepted,
            counted=sum(t[USAGE_TYPE] for t in observed.values()),
            lost=lost,
            accounts_off=len(problems),
            inbox_claims=claims,
        )
        if problems:
            wrong.append(f"{service}: {extra:g} counted twice, {lost:g} lost ({problems[0]}, …)")
        if claims != accepted:
            wrong.append(f"{service}: its usage consumer claimed {claims:,} events, {accepted:,} accepted")
    records = int(convergence["usage_topic_records"])
    report.add(
        SUITE,
        f"{LABEL}usage topic: records beyond the accepted events",
        records - accepted,
        "records",
        records=records,
        accepted=accepted,
    )
    if records != accepted:
        wrong.append(f"usage topic holds {records:,} records for {accepted:,} accepted events")
    if ingest_total != accepted or step.failed:
        wrong.append(
            f"ingest counted {ingest_total:,.0f} accepted, the client {accepted:,}"
            f" ({step.failed} requests without a whole answer)"
        )
    if any(convergence["lags"].values()):
        wrong.append(f"not caught up after {CONVERGE_SECONDS:.0f} s: {convergence['lags']}")
    return wrong


def scaled_step(bench: Bench, report: Report, rate: float, *, single_sustained: bool) -> None:
    began = time.monotonic()
    with ExitStack() as processes:
        scaled = dataclasses.replace(bench, stack=processes, topic_prefix=PREFIX)
        clients = KafkaClients(scaled.kafka_settings)
        asyncio.run(clients.ensure_topics())
        partitions = {
            name: len(ids)
            for name, ids in asyncio.run(
                clients.partitions([USAGE.name, ENTITLEMENTS.name, REWARDS.name])
            ).items()
        }
        replicas, databases = _start(scaled)
        phases = {"start": time.monotonic() - began}
        by_role = {(r.start.name, r.start.roles): r.base for r in replicas if not r.name.endswith("#2")}
        configure(scaled, by_role)
        ingest, entitlements = by_role[("usage-ingest", "api")], by_role[("entitlements", "api")]
        meter = CpuMeter({r.name: scaled.pid(r.base) for r in replicas})
        named = {r.name: r for r in replicas}
        log: list[str] = []

        async def bounces() -> None:
            await asyncio.gather(
                *(
                    _bounce(scaled, meter, named[f"{service} {role} #2"], share * HOLD_SECONDS, log)
                    for (service, role), share in BOUNCES
                )
            )

        asyncio.run(drained(scaled))
        phases["configure"] = time.monotonic() - began - sum(phases.values())
        step = asyncio.run(hold(scaled, ingest, rate, meter, bounces()))
        phases["hold"] = time.monotonic() - began - sum(phases.values())
        sustained, why = step.verdict()
        report_step(report, step, sustained, why, LABEL)
        report.add_series(
            f"pipeline_scaled_lag_at_{rate:.0f}", [{"t": at, "lag": lag} for at, lag in step.lags]
        )
        stages: dict[str, float] = defaultdict(float)
        for name, seconds in step.cpu.items():
            stages[name.split(" #")[0]] += seconds
        report_costs(report, dataclasses.replace(step, cpu=dict(stages)), LABEL)
        convergence = asyncio.run(converge(scaled, entitlements, step.accepted, CONVERGE_SECONDS))
        counted = asyncio.run(_counted(scaled, databases))
        wrong = _report_counts(report, step, counted, convergence, asyncio.run(_ingest_accepted(ingest)))
        phases["converge and count"] = time.monotonic() - began - sum(phases.values())
    phases["stop"] = time.monotonic() - began - sum(phases.values())
    report.add(
        SUITE,
        f"{LABEL}sustained at the single-replica rate",
        rate if sustained else 0.0,
        "events/s",
        sustained="yes" if sustained else "no",
        single_replica_rate=rate if single_sustained else f"none sustained; lowest step {rate:.0f}",
        processes=len(replicas),
        partitions=partitions,
        rebalances="; ".join(log),
        verdict=why,
        seconds={name: round(seconds) for name, seconds in phases.items()},
    )
    report.notes.append(
        f"{SUITE}: scaled out: {len(replicas)} processes ({REPLICAS} of every consumer, relay and scheduler "
        f"role), topics {partitions} partitions, one step at {rate:,.0f} events/s with one replica of each "
        "usage consumer stopped and started during it; afterwards every accepted event checked to be counted "
        f"once per account by entitlements and rewards; took {time.monotonic() - began:.0f} s"
    )
    if wrong:
        loud = f"{SUITE}: SCALED OUT, COUNTS WRONG: " + "; ".join(wrong)
        report.notes.append(loud)
        print(f"!!! {loud}", flush=True)
