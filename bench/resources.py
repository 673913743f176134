"""Resident memory of service processes under load, sampled from /proc while a suite runs.

A service with several uvicorn workers is a parent and its children: its RSS is their sum.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import Bench
from bench.report import Report


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += _children(current)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its descendants have used so far, seconds: what a
    request costs the server whatever share of the machine it got, a figure a busy machine
    distorts less than rates."""
    ticks = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants, MiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_kib(current)
        pending += _children(current)
    return total / 1024


class PeakRss:
    """Peak RSS per named service process, sampled every `interval` seconds in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.5) -> None:
        self.pids = pids
        self.peaks = dict.fromkeys(pids, 0.0)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.peaks[name] = max(self.peaks[name], rss_mib(pid))
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def peak_rss(bench: Bench, report: Report, suite: str, services: dict[str, str], load: str) -> Iterator[None]:
    """Report each service's (name → base URL) peak RSS while the block runs `load`."""
    pids = {name: bench.pid(base) for name, base in services.items()}
    with PeakRss(pids) as sampler:
        yield
    for name, peak in sampler.peaks.items():
        report.add("resources", f"{name} peak RSS", peak, "MiB", during=f"{suite}: {load}")
