"""Flame graphs of service processes under load: py-spy samples a process from outside (no
code change, no restart) while a benchmark drives it, and writes an SVG next to the report.

`--nonblocking` reads the process's memory without pausing it, so the figure measured at the
same time is not slowed by the profiler (at 100 samples/s, a stack now and then is torn)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import Bench
from bench.report import REPORTS, Report

SAMPLES_PER_SECOND = 100


def _py_spy() -> str | None:
    beside_python = Path(sys.executable).with_name("py-spy")
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@contextmanager
def flame_graph(bench: Bench, report: Report, suite: str, name: str, base: str, load: str) -> Iterator[None]:
    """Profile the service serving `base` while the block runs `load`; the report's notes
    link the SVG (bench/reports/flame-<name>.svg). Without py-spy, or where the system
    refuses to let one process read another's memory, the block runs unprofiled and the
    notes say why."""
    py_spy = _py_spy()
    path = REPORTS / f"flame-{_slug(name)}.svg"
    if py_spy is None:
        report.notes.append(f"{suite}: no flame graph of the {name} (py-spy is not installed)")
        yield
        return
    REPORTS.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    command = [
        *(py_spy, "record", "--pid", str(bench.pid(base)), "--rate", str(SAMPLES_PER_SECOND)),
        *("--format", "flamegraph", "--output", str(path), "--nonblocking"),
    ]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        profiler.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
        try:
            _, errors = profiler.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            profiler.kill()
            _, errors = profiler.communicate()
    if path.exists():
        report.notes.append(f"{suite}: flame graph of the {name} while {load}: [{path.name}]({path.name})")
    else:
        reason = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        report.notes.append(f"{suite}: no flame graph of the {name} ({reason[0]})")
