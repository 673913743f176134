"""The soak's checks, each over windows of the run: what the system does in its last window
must match what it did in its first (after warm-up), within tolerances."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from statistics import mean
from typing import Any

from bench.ingest_load import percentiles_ms
from chaos.soak.observe import Observations, Sample

Window = tuple[float, float]  # seconds since the load started: [start, end)


@dataclass(frozen=True)
class Windows:
    first: Window  # right after warm-up
    plateau: Window  # from when the inbox reached its retention (ids start being forgotten)
    last: Window

    @classmethod
    def of(
        cls, seconds: float, *, warmup: float, window: float, retention: float, prune_every: float
    ) -> Windows:
        plateau_start = warmup + retention + prune_every
        if plateau_start + window > seconds - window:
            raise ValueError(
                f"a {seconds:.0f} s run is too short: the inbox levels off after {plateau_start:.0f} s "
                f"and the windows take {window:.0f} s each"
            )
        return cls(
            (warmup, warmup + window), (plateau_start, plateau_start + window), (seconds - window, seconds)
        )


@dataclass(frozen=True)
class Tolerances:
    rss_growth: float = 0.10  # the bound: RSS growth per process after warm-up
    p99_growth: float = 0.20  # last window's p99 against the first's
    backlog_growth: float = 0.20  # inbox, outbox and lag: last window's peak against the first's


Check = tuple[bool, str]


def _samples(samples: Sequence[Sample], window: Window) -> list[Sample]:
    return [s for s in samples if window[0] <= s.at < window[1]]


def p99_ms(latencies: Iterable[tuple[float, float]], window: Window) -> float:
    inside = [latency for at, latency in latencies if window[0] <= at < window[1]]
    return percentiles_ms(inside, 99)[0] if inside else float("nan")


def _grows(before: float, after: float, tolerance: float, slack: float = 0.0) -> bool:
    return after > before * (1 + tolerance) + slack


def _per_key(
    samples: Sequence[Sample], windows: tuple[Window, Window], pick: Callable[[Sample], dict[str, Any]]
) -> dict[str, tuple[list[float], list[float]]]:
    before, after = (_samples(samples, w) for w in windows)
    keys = {k for s in before + after for k in pick(s)}
    return {
        k: ([pick(s).get(k, 0) for s in before], [pick(s).get(k, 0) for s in after]) for k in sorted(keys)
    }


def steady_state_checks(
    observations: Observations,
    ingest_latencies: Sequence[tuple[float, float]],
    windows: Windows,
    tolerances: Tolerances,
    rate: float,
) -> dict[str, Check]:
    samples = observations.samples
    checks: dict[str, Check] = {}

    rss = _per_key(samples, (windows.first, windows.last), lambda s: s.rss_mib)
    growth = {name: (mean(a) / mean(b) - 1) if b and a else float("nan") for name, (b, a) in rss.items()}
    checks[f"resident memory grew at most {tolerances.rss_growth:.0%} after warm-up"] = (
        bool(growth) and all(g <= tolerances.rss_growth for g in growth.values()),
        ", ".join(f"{name} {g:+.1%}" for name, g in growth.items()),
    )

    for what, latencies in (("checks", observations.check_latencies), ("ingest", ingest_latencies)):
        first, last = p99_ms(latencies, windows.first), p99_ms(latencies, windows.last)
        checks[f"p99 of {what} in the last window within {tolerances.p99_growth:.0%} of the first"] = (
            first == first and last == last and not _grows(first, last, tolerances.p99_growth),
            f"{first:.1f} ms → {last:.1f} ms",
        )

    inbox = _per_key(samples, (windows.plateau, windows.last), lambda s: s.inbox_rows)
    checks["inbox rows level off at the retention (ids are forgotten as fast as they come)"] = (
        bool(inbox)
        and all(
            b and a and not _grows(max(b), max(a), tolerances.backlog_growth, 1000) for b, a in inbox.values()
        ),
        ", ".join(f"{k} {max(b or [0]):,.0f} → {max(a or [0]):,.0f}" for k, (b, a) in inbox.items()),
    )
    outbox = _per_key(samples, (windows.first, windows.last), lambda s: s.outbox_rows)
    checks["outbox rows stay drained (the relays keep up)"] = (
        bool(outbox)
        and all(
            b and a and not _grows(max(b), max(a), tolerances.backlog_growth, rate)
            for b, a in outbox.values()
        ),
        ", ".join(f"{k} {max(b or [0]):,.0f} → {max(a or [0]):,.0f}" for k, (b, a) in outbox.items()),
    )
    lag = _per_key(samples, (windows.first, windows.last), lambda s: {"all groups": sum(s.lags.values())})
    [(before, after)] = lag.values() if lag else [([], [])]
    checks["consumer lag does not grow"] = (
        bool(before and after) and not _grows(max(before), max(after), tolerances.backlog_growth, 2 * rate),
        f"peak {max(before or [0]):,.0f} → {max(after or [0]):,.0f} records",
    )
    return checks
