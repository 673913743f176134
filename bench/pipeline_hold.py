"""The whole pipeline held at one usage rate: what the pipeline suite's steps share (its
single-replica climb and its scaled-out step, bench/pipeline_scaled.py).

The apps' configuration (a metered plan, a milestone, an inbox rule), a step (usage offered
to ingest for HOLD_SECONDS while every consumer group's lag is sampled) and its verdict,
each process's CPU time over the step, and the rows that report them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.harness import Bench
from bench.ingest_load import ingest_client, offer
from bench.report import Report
from bench.resources import cpu_seconds
from bench.suites.entitlements import ACCOUNTS, TENANT, provision
from chaos.overload.observe import group_lags
from chaos.pipeline import ALL_ROLES, Role
from tangible_runtime.kafka import KafkaClients

SUITE = "pipeline"
# every role of `make run` but webhook delivery; the apps' configuration goes through the
# rewards and notifications APIs (idle afterwards)
ROLES: tuple[Role, ...] = (*ALL_ROLES, ("rewards", "api"), ("notifications", "api"))
INGEST_ENV = {"usage-ingest": {"USAGE_INGEST_RATE_LIMIT_EVENTS_PER_SECOND": "100000000"}}
HOLD_SECONDS = float(os.environ.get("BENCH_PIPELINE_HOLD_SECONDS", "60"))
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
    tally: Counter[str] = field(default_factory=Counter)  # account → events accepted (whole batches)
    failed: int = 0  # requests without an answer, or 202s for part of a batch: tally uncertain

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


@dataclass
class CpuMeter:
    """CPU seconds per named process over a hold. A process replaced during it (a replica
    stopped and started again) counts until its SIGTERM and from its successor's readiness:
    the successor's imports and start-up are no cost per event."""

    pids: dict[str, int]
    started: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def begin(self) -> None:
        self.started = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.spent = dict.fromkeys(self.pids, 0.0)

    def leaving(self, name: str) -> None:
        self.spent[name] += cpu_seconds(self.pids[name]) - self.started[name]
        self.started[name] = 0.0

    def joined(self, name: str, pid: int) -> None:
        self.pids[name] = pid
        self.started[name] = cpu_seconds(pid)

    def end(self) -> dict[str, float]:
        return {
            name: self.spent[name] + cpu_seconds(pid) - self.started[name] for name, pid in self.pids.items()
        }


async def hold(
    bench: Bench, ingest: str, rate: float, meter: CpuMeter, alongside: Awaitable[Any] | None = None
) -> Step:
    """Usage at `rate` for HOLD_SECONDS, lag sampled meanwhile; `alongside` runs during it."""
    step = Step(rate)
    clients = KafkaClients(bench.kafka_settings)
    started = time.perf_counter()
    until = started + HOLD_SECONDS
    meter.begin()

    async def sample_lag() -> None:
        while time.perf_counter() < until:
            lags = await group_lags(clients)
            step.lags.append((round(time.perf_counter() - started, 1), sum(lags.values())))
            for group, lag in lags.items():
                step.worst_group[group] = max(lag, step.worst_group.get(group, 0))
            await asyncio.sleep(LAG_SAMPLE_SECONDS)

    async def nothing() -> None:
        return None

    async with ingest_client(ingest, bench.token(TENANT, "ingest")) as client:
        offered, _, _ = await asyncio.gather(
            offer(client, rate, until, ACCOUNTS, step.tally), sample_lag(), alongside or nothing()
        )
    step.cpu = meter.end()
    step.accepted = offered.accepted
    step.failed = offered.failed + offered.partial
    return step


async def drained(bench: Bench, timeout: float = 300.0) -> None:
    """Before a step: every group caught up, so that a step does not pay for the last."""
    clients = KafkaClients(bench.kafka_settings)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lags = await group_lags(clients)
        if lags and not any(lags.values()):
            return
        await asyncio.sleep(1.0)


def report_step(report: Report, step: Step, sustained: bool, why: str, label: str = "") -> None:
    report.add(
        SUITE,
        f"{label}step at {step.rate:,.0f} events/s: {'sustained' if sustained else 'not sustained'}",
        step.accepted / HOLD_SECONDS,
        "events/s accepted",
        hold_seconds=HOLD_SECONDS,
        verdict=why,
    )


def report_costs(report: Report, step: Step, label: str = "") -> None:
    for name, seconds in sorted(step.cpu.items(), key=lambda item: -item[1]):
        report.add(
            SUITE,
            f"{label}{name}: CPU time per event",
            seconds / max(step.accepted, 1) * 1e6,
            "µs",
            cpu_share=round(seconds / HOLD_SECONDS, 2),
            at_rate=step.rate,
        )


async def _post(base: str, path: str, body: dict[str, Any], token: str) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        (await client.post(path, json=body)).raise_for_status()


def configure(bench: Bench, bases: Mapping[Role, str]) -> None:
    """The metered plan and licenses, the milestone and the inbox rule (through the rewards and
    notifications APIs, idle afterwards); then a moment for the check view and the consumers
    to take the new licenses from the events."""
    admin = bench.token(TENANT, "admin")
    asyncio.run(provision(bases[("entitlements", "api")], admin))
    asyncio.run(_post(bases[("rewards", "api")], "/v1/milestones", MILESTONE, admin))
    asyncio.run(_post(bases[("notifications", "api")], "/v1/rules", INBOX_RULE, admin))
    time.sleep(2)
