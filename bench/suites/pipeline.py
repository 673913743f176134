"""pipeline: the highest usage rate the whole system sustains, and what each process spends.

Every role of every service runs as its own process (as `make run` and the chart run them;
webhook delivery aside). Usage is offered to usage-ingest over HTTP at a fixed rate, open loop,
in batches of 250 (bench.ingest_load.offer), for HOLD seconds per step, climbing RATES from
FIRST until a step is not sustained (descending from FIRST instead when FIRST is not). A step
is sustained when ingest accepted at least 97 % of what was offered and, over the second half
of the hold, the summed lag of every consumer group stayed under 2 seconds of input and did not
grow (its last quarter's peak no higher than its third quarter's, plus a second of input).
Every service has work to do: entitlements meters the usage (a plan with a limit per account),
rewards counts it towards a milestone (each account reaches it within the first minutes, which
grants credits), and notifications puts each milestone in the account's inbox. At the highest
sustained step the suite reports each process's CPU share (1.0 = one core busy) and CPU time
per accepted event: which stage costs the most, per event.

Then, scaled out (bench/pipeline_scaled.py): fresh topics and databases, two replicas of every
consumer, relay and scheduler role, one step at the best single-replica rate with the same
verdict, one replica of each usage consumer stopped and started again during it (rebalances),
and every accepted event checked to be counted exactly once by entitlements and rewards.

BENCH_PIPELINE_HOLD_SECONDS (60 by default, to keep `make bench` short; the issue's definition
is 120), BENCH_PIPELINE_RATES (comma-separated events/s) and BENCH_PIPELINE_FIRST (6000) change
the steps;
BENCH_PIPELINE_SCALED=0 skips the scaled-out step (about 2.5 minutes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from contextlib import ExitStack

from bench.harness import Bench
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
from bench.pipeline_scaled import SCALED, scaled_step
from bench.report import Report
from chaos.pipeline import start_roles

DEFAULT_RATES = "4000,6000,8000,10000,12000,16000,20000"
RATES = tuple(float(r) for r in os.environ.get("BENCH_PIPELINE_RATES", DEFAULT_RATES).split(","))
# Each step costs over a minute, so the climb starts at the step every recent run sustained
# and goes down through the lower ones only when that one is not sustained.
FIRST = float(os.environ.get("BENCH_PIPELINE_FIRST", "6000"))


def _climb(bench: Bench, report: Report) -> Step | None:
    """Single replicas, RATES climbed from FIRST until a step is not sustained (or, if FIRST
    is not, descended until one is): the best sustained step."""
    bases, _ = start_roles(bench, ROLES, INGEST_ENV)
    configure(bench, bases)
    pids = {f"{service} {role}": bench.pid(base) for (service, role), base in bases.items()}
    ingest = bases[("usage-ingest", "api")]

    def measure(rate: float) -> tuple[Step, bool]:
        asyncio.run(drained(bench))
        step = asyncio.run(hold(bench, ingest, rate, CpuMeter(dict(pids))))
        sustained, why = step.verdict()
        report_step(report, step, sustained, why)
        report.add_series(f"pipeline_lag_at_{rate:.0f}", [{"t": at, "lag": lag} for at, lag in step.lags])
        return step, sustained

    best: Step | None = None
    lowest: Step | None = None  # the lowest step measured
    for rate in [r for r in RATES if r >= FIRST]:
        step, sustained = measure(rate)
        lowest = lowest or step
        if not sustained:
            break
        best = step
    if best is None:
        for rate in [r for r in reversed(RATES) if r < FIRST]:
            lowest, sustained = measure(rate)
            if sustained:
                best = lowest
                break
    if best is None:  # where the CPU went at the lowest step still says which stage is short
        report.add(SUITE, "whole-pipeline sustained rate", 0.0, "events/s", lowest_step=RATES[0])
        if lowest is not None:
            report_costs(report, lowest)
        return None
    report.add(
        SUITE,
        "whole-pipeline sustained rate",
        best.rate,
        "events/s",
        hold_seconds=HOLD_SECONDS,
        processes=len(ROLES),
        next_step=next((r for r in RATES if r > best.rate), "none"),
    )
    report_costs(report, best)
    return best


def run(bench: Bench, report: Report) -> None:
    with ExitStack() as climb_processes:  # stopped before the scaled-out step starts its own
        best = _climb(dataclasses.replace(bench, stack=climb_processes), report)
    report.notes.append(
        f"{SUITE}: every role its own process ({len(ROLES)}); usage over HTTP in batches of 250; "
        "a metered plan, a milestone rule (500 reports, credits) and an inbox rule for milestones; "
        "a step is sustained when ingest accepted 97 % of the offered events and the summed lag of "
        "every consumer group stayed under 2 s of input without growing over the second half of the hold"
    )
    if SCALED:
        scaled_step(bench, report, best.rate if best else RATES[0], single_sustained=best is not None)
