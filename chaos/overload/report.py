"""The overload run's verdict and report: chaos/reports/overload-latest.{json,md}."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.overload.producer import ProducerResult


def current_commit() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def delivery_checks(
    *,
    given: int,
    results: list[ProducerResult],
    convergence: dict[str, Any],
    accepted_total: float,
    duplicate_total: float,
) -> dict[str, tuple[bool, str]]:
    """Every event given to a client delivered, published, accepted and counted exactly once,
    and every consumer group caught up: the promise of the 202, whatever the load did."""
    reports: Counter[str] = Counter()
    for r in results:
        reports.update(r.reports)
    delivered = reports["accepted"] + reports["duplicate"]
    lags = convergence["lags"]
    return {
        "every event given to a client was delivered (none failed)": (
            delivered == given and not (set(reports) - {"accepted", "duplicate"}),
            f"{delivered:,} of {given:,} delivered; reports {dict(reports)}",
        ),
        "the usage topic holds exactly one record per event": (
            convergence["usage_topic_records"] == given,
            f"{convergence['usage_topic_records']:,} records for {given:,} events",
        ),
        "ingest accepted each event once": (
            accepted_total == given,
            f"{accepted_total:,.0f} accepted (+{duplicate_total:,.0f} retries answered duplicate)",
        ),
        "entitlements counted every event": (
            convergence["entitlements_counted"] == given,
            f"{convergence['entitlements_counted']:,.0f} counted",
        ),
        "every consumer group caught up": (
            bool(lags) and not any(lags.values()),
            f"{convergence['seconds']} s after the load; lags {lags}",
        ),
    }


def memory_check(peaks: dict[str, float], limits: dict[str, float]) -> dict[str, tuple[bool, str]]:
    over = {name: round(peak, 1) for name, peak in peaks.items() if peak >= limits[name]}
    return {
        "every process stayed under its Helm memory limit": (
            not over,
            f"over: {over}" if over else "all under",
        )
    }


def _checks(
    figures: dict[str, Any],
    results: list[ProducerResult],
    convergence: dict[str, Any],
    peaks: dict[str, float],
    limits: dict[str, float],
) -> dict[str, tuple[bool, str]]:
    refused = figures["shed_requests_in_window"] + figures["rate_limited_requests_in_window"]
    without_retry_after = sum(r.throttled_without_retry_after for r in results)
    return {
        "ingest shed load (503/429) during the overload": (refused > 0, f"{refused:,.0f} requests refused"),
        "every refusal said when to retry (Retry-After)": (
            without_retry_after == 0,
            f"{without_retry_after} 429/503 answers without Retry-After",
        ),
        **delivery_checks(
            given=figures["events_given"],
            results=results,
            convergence=convergence,
            accepted_total=figures["events_accepted_total"],
            duplicate_total=figures["events_duplicate_total"],
        ),
        **memory_check(peaks, limits),
    }


def write_report(
    *,
    figures: dict[str, Any],
    results: list[ProducerResult],
    convergence: dict[str, Any],
    peaks: dict[str, float],
    limits: dict[str, float],
    conditions: dict[str, Any],
    reports_dir: Path,
) -> bool:
    """Write the JSON and Markdown reports; True when every check passed."""
    checks = _checks(figures, results, convergence, peaks, limits)
    passed = all(ok for ok, _ in checks.values())
    responses: Counter[str] = Counter()
    for r in results:
        responses.update(r.responses)
    document = {
        "run": "overload",
        "passed": passed,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": current_commit(),
        "conditions": conditions,
        "figures": figures,
        "responses_seen_by_clients": dict(responses),
        "transport_errors": sum(r.transport_errors for r in results),
        "max_attempts_of_an_event": max((r.attempts_max for r in results), default=0),
        "convergence": convergence,
        "peak_rss_mib": {
            name: {"peak": round(peak, 1), "limit": limits[name]} for name, peak in peaks.items()
        },
        "checks": {name: {"passed": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / "overload-latest.json").write_text(json.dumps(document, indent=2) + "\n")
    (reports_dir / "overload-latest.md").write_text(_markdown(document))
    print(_markdown(document), flush=True)
    return passed


def _markdown(d: dict[str, Any]) -> str:
    f = d["figures"]
    lines = [
        f"# Overload run: {'PASSED' if d['passed'] else 'FAILED'}",
        "",
        f"{d['finished_at']}, commit {d['commit']}. `make overload` (chaos/overload): tangible-clients "
        f"offer {f['offered_rate']:,.0f} events/s to usage-ingest for {f['seconds']:.0f} s, then deliver "
        "what they hold.",
        "",
        "Conditions: " + ", ".join(f"{k}={v}" for k, v in d["conditions"].items()) + ".",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| offered (target) | {f['offered_rate']:,.0f} events/s |",
        f"| recorded by the clients (`record()` waits while a client's buffer is full) "
        f"| {f['recorded_rate']:,.0f} events/s |",
        f"| **accepted by ingest in the window** | **{f['accepted_rate']:,.0f} events/s** |",
        f"| accepted requests in the window (batches ≤ 500) | {f['accepted_requests_in_window']:,} |",
        f"| latency of accepted requests, p50 / **p99** (as the clients saw it) "
        f"| {f['accepted_p50_ms']:,.0f} ms / **{f['accepted_p99_ms']:,.0f} ms** |",
        f"| requests shed with 503 overloaded in the window | {f['shed_requests_in_window']:,.0f} |",
        "| requests refused with 429 (rate limit) in the window "
        f"| {f['rate_limited_requests_in_window']:,.0f} |",
        f"| events given to the clients / accepted once by ingest "
        f"| {f['events_given']:,} / {f['events_accepted_total']:,.0f} |",
        f"| convergence after the load (every group caught up, entitlements counted all) "
        f"| {d['convergence']['seconds']} s |",
        f"| responses the clients saw (retries included) | {d['responses_seen_by_clients']} |",
        f"| most attempts of one event | {d['max_attempts_of_an_event']} |",
        "",
        "## Peak RSS per process (MiB) against the Helm limit",
        "",
        "| process | peak | limit |",
        "|---|---:|---:|",
        *[f"| {name} | {v['peak']:,.1f} | {v['limit']:,.0f} |" for name, v in d["peak_rss_mib"].items()],
        "",
        "## Checks",
        "",
        *[f"- {'✅' if c['passed'] else '❌'} {name}: {c['detail']}" for name, c in d["checks"].items()],
    ]
    return "\n".join(lines) + "\n"
