"""pipeline: the highest usage rate the whole system sustains, and what each process spends.

Every role of every service runs as its own process (as `make run` and the chart run them;
webhook delivery aside). Usage is offered to usage-ingest over HTTP at a fixed rate, open loop,
in batches of 250 (bench.ingest_load.offer), for HOLD seconds per step, climbing RATES until a
step is not sustained. A step is sustained when ingest accepted at least 97 % of what was
offered and, over the second half of the hold, the summed lag of every consumer group stayed
under 2 seconds of input and did not grow (its last quarter's peak no higher than its third
quarter's, plus a second of input). Every service has work to do: entitlements meters the
usage (a plan with a limit per account), rewards counts it towards a milestone (each account
reaches it within the first minutes, which grants credits), and notifications puts each
milestone in the account's inbox. At the highest sustained step the suite reports each
process's CPU share (1.0 = one core busy) and CPU time per accepted event: which stage costs
the most, per event.

BENCH_PIPELINE_HOLD_SECONDS (60 by default, to keep `make bench` short; the issue's definition
is 120) and BENCH_PIPELINE_RATES (comma-separated events/s) change the steps.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import Bench
from bench.ingest_load import ingest_client, offer
from bench.report import Report
from bench.resources import cpu_seconds
from bench.suites.entitlements import ACCOUNTS, TENANT, provision
from chaos.overload.observe import group_lags
from chaos.pipeline import ALL_ROLES, Role, start_roles
from tangible_runtime.kafka import KafkaClients

SUITE = "pipeline"
HOLD_SECONDS = float(os.environ.get("BENCH_PIPELINE_HOLD_SECONDS", "60"))
DEFAULT_RATES = "4000,6000,8000,10000,12000,16000,20000"
RATES = tuple(float(r) for r in os.environ.get("BENCH_PIPELINE_RATES", DEFAULT_RATES).split(","))
LAG_SAMPLE_SECONDS = 2.0
MILESTONE = {
    "key": "five-hundred-reports",
    "name": "500 reports",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 500},
    "reward": {"kind": "credits", "credits": "10.00"},
}
INBOX_RULE = {
    "name": "milestones",
    "event_types": ["tangible.rewards.v1.milestone_reached"],
    "channels": ["inbox"],
}
ACCEPTED_SHARE = 0.97


@dataclass
class Step:
    rate: float
    accepted: int = 0
    lags: list[tuple[float, int]] = field(default_factory=list)  # (seconds into the hold, summed lag)
    worst_group: dict[str, int] = field(default_factory=dict)  # each group's peak lag
    cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds during the hold

    def verdict(self) -> tuple[bool, str]:
        second_half = [lag for at, lag in self.lags if at >= HOLD_SECONDS / 2]
        third = [lag for at, lag in self.lags if HOLD_SECONDS / 2 <= at < HOLD_SECONDS * 3 / 4]
        fourth = [lag for at, lag in self.lags if at >= HOLD_SECONDS * 3 / 4]
        accepted_share = self.accepted / (self.rate * HOLD_SECONDS)
        if accepted_share < ACCEPTED_SHARE:
            return False, f"ingest accepted {accepted_share:.0%} of the offered events"
        if not (third and fourth):
            return False, "no lag samples"
        if max(second_half) > 2 * self.rate:
            return (
                False,
                f"lag reached {max(second_half):,} records (over 2 s of input; peaks {self.worst_group})",
            )
        if max(fourth) > max(third) + self.rate:
            return False, f"lag grew from {max(third):,} to {max(fourth):,} records"
        return True, f"lag peak {max(second_half):,} records in the second half"


async def _hold(bench: Bench, ingest: str, rate: float, pids: dict[str, int]) -> Step:
    step = Step(rate)
    clients = KafkaClients(bench.kafka_settings)
    started = time.perf_counter()
    until = started + HOLD_SECONDS
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}

    async def sample_lag() -> None:
        while time.perf_counter() < until:
            lags = await group_lags(clients)
            step.lags.append((round(time.perf_counter() - started, 1), sum(lags.values())))
            for group, lag in lags.items():
                step.worst_group[group] = max(lag, step.worst_group.get(group, 0))
            await asyncio.sleep(LAG_SAMPLE_SECONDS)

    async with ingest_client(ingest, bench.token(TENANT, "ingest")) as client:
        offered, _ = await asyncio.gather(offer(client, rate, until, ACCOUNTS), sample_lag())
    step.cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    step.accepted = offered.accepted
    return step


async def _drained(bench: Bench, timeout: float = 300.0) -> None:
    """Between steps: every group caught up, so that a step does not pay for the last."""
    clients = KafkaClients(bench.kafka_settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lags = await group_lags(clients)
        if lags and not any(lags.values()):
            return
        await asyncio.sleep(1.0)


def _report_step(report: Report, step: Step, sustained: bool, why: str) -> None:
    report.add(
        SUITE,
        f"step at {step.rate:,.0f} events/s: {'sustained' if sustained else 'not sustained'}",
        step.accepted / HOLD_SECONDS,
        "events/s accepted",
        hold_seconds=HOLD_SECONDS,
        verdict=why,
    )


def _report_costs(report: Report, step: Step) -> None:
    for name, seconds in sorted(step.cpu.items(), key=lambda item: -item[1]):
        report.add(
            SUITE,
            f"{name}: CPU time per event",
            seconds / max(step.accepted, 1) * 1e6,
            "µs",
            cpu_share=round(seconds / HOLD_SECONDS, 2),
            at_rate=step.rate,
        )


async def _post(base: str, path: str, body: dict[str, Any], token: str) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        (await client.post(path, json=body)).raise_for_status()


def run(bench: Bench, report: Report) -> None:
    # the apps' configuration goes through the rewards and notifications APIs (idle afterwards)
    roles: tuple[Role, ...] = (*ALL_ROLES, ("rewards", "api"), ("notifications", "api"))
    env = {"usage-ingest": {"USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"}}
    bases, _ = start_roles(bench, roles, env)
    admin = bench.token(TENANT, "admin")
    asyncio.run(provision(bases[("entitlements", "api")], admin))
    asyncio.run(_post(bases[("rewards", "api")], "/v1/milestones", MILESTONE, admin))
    asyncio.run(_post(bases[("notifications", "api")], "/v1/rules", INBOX_RULE, admin))
    time.sleep(2)  # the check view and the consumers take the new licenses from the events
    pids = {f"{service} {role}": bench.pid(base) for (service, role), base in bases.items()}
    ingest = bases[("usage-ingest", "api")]
    best: Step | None = None
    first: Step | None = None
    for rate in RATES:
        asyncio.run(_drained(bench))
        step = asyncio.run(_hold(bench, ingest, rate, pids))
        first = first or step
        sustained, why = step.verdict()
        _report_step(report, step, sustained, why)
        report.add_series(f"pipeline_lag_at_{rate:.0f}", [{"t": at, "lag": lag} for at, lag in step.lags])
        if not sustained:
            break
        best = step
    if best is None:  # where the CPU went at the lowest step still says which stage is short
        report.add(SUITE, "whole-pipeline sustained rate", 0.0, "events/s", lowest_step=RATES[0])
        if first is not None:
            _report_costs(report, first)
        return
    report.add(
        SUITE,
        "whole-pipeline sustained rate",
        best.rate,
        "events/s",
        hold_seconds=HOLD_SECONDS,
        processes=len(roles),
        next_step=next((r for r in RATES if r > best.rate), "none"),
    )
    _report_costs(report, best)
    report.notes.append(
        f"{SUITE}: every role its own process ({len(roles)}); usage over HTTP in batches of 250; "
        "a metered plan, a milestone rule (500 reports, credits) and an inbox rule for milestones; "
        "a step is sustained when ingest accepted 97 % of the offered events and the summed lag of "
        "every consumer group stayed under 2 s of input without growing over the second half of the hold"
    )
