"""The pipeline bench's scaled-out step: counts compared per account with what ingest accepted,
any difference (a double count, a loss, a missed claim, an extra record) named; and the CPU of
a replica replaced mid-hold counted without its successor's start-up."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from bench.pipeline_hold import CpuMeter, Step
from bench.pipeline_scaled import _report_counts
from bench.report import Report
from bench.resources import cpu_seconds

TALLY = Counter({"acct-0": 500, "acct-1": 250})
CAUGHT_UP: dict[str, Any] = {"usage_topic_records": 750, "lags": {"bench.g": 0}}


def _counted(entitlements: dict[str, float], claims: int = 750) -> dict[str, Any]:
    exact = {"acct-0": {"report.generated": 500.0}, "acct-1": {"report.generated": 250.0}}
    found = {a: {"report.generated": n} for a, n in entitlements.items()}
    return {"entitlements": (found, claims), "rewards": (exact, 750)}


def _figures(report: Report) -> dict[str, float]:
    return {f.name.split(": ", 1)[1]: f.value for f in report.figures}


def test_every_event_counted_once_gives_zero_figures_and_no_complaint() -> None:
    report = Report()
    step = Step(2000.0, accepted=750, tally=TALLY)
    wrong = _report_counts(
        report, step, _counted({"acct-0": 500.0, "acct-1": 250.0}), CAUGHT_UP, ingest_total=750
    )
    assert wrong == []
    assert _figures(report) == {
        "entitlements: accepted events counted twice": 0.0,
        "rewards: accepted events counted twice": 0.0,
        "usage topic: records beyond the accepted events": 0.0,
    }


def test_a_double_count_offset_by_a_loss_elsewhere_is_still_named() -> None:
    report = Report()
    step = Step(2000.0, accepted=750, tally=TALLY)
    counted = _counted({"acct-0": 510.0, "acct-1": 240.0}, claims=740)  # same total, wrong accounts
    wrong = _report_counts(report, step, counted, {**CAUGHT_UP, "usage_topic_records": 751}, 750)
    assert _figures(report)["entitlements: accepted events counted twice"] == 10.0
    assert any(w.startswith("entitlements: 10 counted twice, 10 lost") for w in wrong)
    assert any("claimed 740 events, 750 accepted" in w for w in wrong)
    assert any("usage topic holds 751 records" in w for w in wrong)
    assert not any(w.startswith("rewards") for w in wrong)


def test_a_tally_the_client_cannot_vouch_for_is_named() -> None:
    step = Step(2000.0, accepted=750, tally=TALLY, failed=1)
    wrong = _report_counts(Report(), step, _counted({"acct-0": 500.0, "acct-1": 250.0}), CAUGHT_UP, 1000)
    assert wrong == ["ingest counted 1,000 accepted, the client 750 (1 requests without a whole answer)"]


def test_a_replaced_process_counts_until_it_leaves_and_from_its_successor_joining() -> None:
    me = os.getpid()  # stands for both processes: its CPU before `joined` is the successor's start-up
    meter = CpuMeter({"consumer #2": me})
    meter.begin()
    sum(range(3_000_000))  # CPU spent by the first process during the hold
    meter.leaving("consumer #2")
    spent = meter.spent["consumer #2"]
    sum(range(3_000_000))  # the successor's imports and start-up
    meter.joined("consumer #2", me)
    assert spent > 0
    assert cpu_seconds(me) > spent + 0.05
    assert spent <= meter.end()["consumer #2"] < spent + 0.05
