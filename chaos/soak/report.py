"""The soak's report: chaos/reports/soak-latest.{json,md,png} — figures per window, every
check, and a plot over time of memory, lag, latency and the inbox/outbox tables."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from chaos.overload.report import current_commit  # noqa: E402
from chaos.soak.observe import Observations  # noqa: E402
from chaos.soak.verdict import Windows, p99_ms  # noqa: E402


def _buckets(
    latencies: list[tuple[float, float]], seconds: float, width: float
) -> tuple[list[float], list[float]]:
    """p99 per bucket of `width` seconds, for the plot (minutes, ms)."""
    xs, ys = [], []
    start = 0.0
    while start < seconds:
        found = p99_ms(latencies, (start, start + width))
        if found == found:  # not NaN: the bucket had samples
            xs.append((start + width / 2) / 60)
            ys.append(found)
        start += width
    return xs, ys


def plot(
    observations: Observations,
    ingest_latencies: list[tuple[float, float]],
    seconds: float,
    windows: Windows,
    path: Path,
) -> None:
    samples = observations.samples
    minutes = [s.at / 60 for s in samples]
    figure, ((memory, lag), (latency, tables)) = plt.subplots(2, 2, figsize=(13, 8))
    for name in samples[0].rss_mib if samples else []:
        memory.plot(minutes, [s.rss_mib.get(name, 0) for s in samples], label=name)
    memory.set(title="resident memory per process", xlabel="minutes", ylabel="MiB")
    memory.legend(fontsize=7)
    groups = sorted({g for s in samples for g in s.lags})
    for group in groups:
        lag.plot(minutes, [s.lags.get(group, 0) for s in samples], label=group)
    lag.set(title="consumer lag", xlabel="minutes", ylabel="records")
    if groups:
        lag.legend(fontsize=7)
    width = max(10.0, seconds / 60)
    for label, series in (("checks", observations.check_latencies), ("ingest (202)", ingest_latencies)):
        latency.plot(*_buckets(series, seconds, width), marker=".", label=f"{label} p99")
    latency.set(title=f"p99 latency per {width:.0f} s", xlabel="minutes", ylabel="ms")
    latency.legend(fontsize=7)
    for service in sorted({k for s in samples for k in s.inbox_rows}):
        tables.plot(minutes, [s.inbox_rows.get(service, 0) for s in samples], label=f"{service} inbox")
        tables.plot(
            minutes,
            [s.outbox_rows.get(service, 0) for s in samples],
            linestyle=":",
            label=f"{service} outbox",
        )
    tables.set(title="inbox and outbox rows", xlabel="minutes", ylabel="rows")
    tables.legend(fontsize=7)
    for axis in (memory, lag, latency, tables):
        for start, end in (windows.first, windows.last):
            axis.axvspan(start / 60, end / 60, color="grey", alpha=0.1)
    figure.suptitle("Soak: shaded, the first and last windows compared")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_report(
    *,
    observations: Observations,
    ingest_latencies: list[tuple[float, float]],
    windows: Windows,
    figures: dict[str, Any],
    checks: dict[str, tuple[bool, str]],
    conditions: dict[str, Any],
    reports_dir: Path,
) -> bool:
    """Write the JSON, Markdown and PNG reports; True when every check passed."""
    passed = all(ok for ok, _ in checks.values())
    document = {
        "run": "soak",
        "passed": passed,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": current_commit(),
        "conditions": conditions,
        "windows": asdict(windows),
        "figures": figures,
        "checks": {name: {"passed": ok, "detail": detail} for name, (ok, detail) in checks.items()},
        "samples": [asdict(s) for s in observations.samples],
    }
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / "soak-latest.json").write_text(json.dumps(document, indent=2) + "\n")
    plot(observations, ingest_latencies, figures["seconds"], windows, reports_dir / "soak-latest.png")
    (reports_dir / "soak-latest.md").write_text(_markdown(document))
    print(_markdown(document), flush=True)
    return passed


def _markdown(d: dict[str, Any]) -> str:
    f, w = d["figures"], d["windows"]
    conditions = ", ".join(f"{k}={v}" for k, v in d["conditions"].items())

    def span(window: list[float]) -> str:
        return f"{window[0] / 60:.1f}–{window[1] / 60:.1f} min"

    lines = [
        f"# Soak run: {'PASSED' if d['passed'] else 'FAILED'}",
        "",
        f"{d['finished_at']}, commit {d['commit']}. `make soak` (chaos/soak): tangible-clients offer "
        f"{f['offered_rate']:,.0f} events/s to usage-ingest for {f['seconds'] / 60:.0f} min while every "
        "role runs (schedulers, relays, the inbox pruner) and time-bound grants fall due; entitlement "
        "checks are probed open-loop throughout.",
        "",
        f"Conditions: {conditions}.",
        "",
        "![memory, lag, p99 and tables over time](soak-latest.png)",
        "",
        "| figure | first window | last window |",
        "|---|---:|---:|",
        f"| window | {span(w['first'])} | {span(w['last'])} |",
        f"| check p99 | {f['check_p99_ms_first']:,.1f} ms | {f['check_p99_ms_last']:,.1f} ms |",
        f"| ingest (202) p99 | {f['ingest_p99_ms_first']:,.1f} ms | {f['ingest_p99_ms_last']:,.1f} ms |",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| events given to the clients / accepted once by ingest | {f['events_given']:,} / "
        f"{f['events_accepted_total']:,.0f} |",
        f"| accepted rate over the run | {f['accepted_rate']:,.0f} events/s |",
        f"| checks probed / failed | {f['checks_probed']:,} / {f['check_failures']:,} |",
        f"| time-bound grants that fell due / announced late by at most | {f['grants_due']:,} / "
        f"{f['grant_announce_delay_max_s']:,.1f} s |",
        f"| convergence after the load | {f['convergence_seconds']} s |",
        f"| inbox level-off window | {span(w['plateau'])} |",
        "",
        "## Checks",
        "",
        *[f"- {'✅' if c['passed'] else '❌'} {name}: {c['detail']}" for name, c in d["checks"].items()],
    ]
    return "\n".join(lines) + "\n"
