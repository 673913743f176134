"""Closed-loop maximum throughput of the check path with wrk (C, from Debian's `wrk` package).

vegeta spends 137-226 µs of CPU per request (docs/performance.md): on a core of its own it
cannot offer more than about 5,000-7,000 requests/s, so it cannot show whether a server
reaches 15,000. wrk spends a few µs per request. It is closed-loop only (each connection sends
its next request when the last one answered), which is right for a maximum and wrong for
latency at a rate: the open-loop figures stay with vegeta (bench/vegeta.py).

Both sides are pinned (see `pinned`): wrk to one core, the server to the other, so that
neither measures the other's scheduling.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.resources import cpu_seconds
from tangible_devstack.paths import project_root

# wrk's Lua hook: each request takes the next path, round-robin, with the same headers
_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def ensure_wrk() -> str:
    """wrk's path; scripts/ensure-debian-packages.sh installs the package once."""
    found = shutil.which("wrk")
    if found is None:
        script = project_root() / "scripts" / "ensure-debian-packages.sh"
        subprocess.run(["bash", str(script), "wrk"], check=True)
        found = shutil.which("wrk")
    assert found is not None, "wrk is not installed"
    return found


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    throughput: float  # responses per second
    non_2xx: int  # non-2xx/3xx answers
    socket_errors: int
    generator_cpu: float
    server_cpu: float | None

    def costs(self) -> dict[str, float]:
        found = {"generator_cpu_us_per_request": round(self.generator_cpu / max(self.requests, 1) * 1e6, 1)}
        if self.server_cpu is not None:
            found["server_cpu_us_per_request"] = round(self.server_cpu / max(self.requests, 1) * 1e6, 1)
        return found


def _parse(output: str) -> tuple[int, float, int, int]:
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    assert done is not None, output
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return (
        int(done.group(1)),
        float(done.group(2)) * unit,
        int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors,
    )


def max_throughput(
    base: str,
    paths: Sequence[str],
    headers: dict[str, str],
    *,
    seconds: float,
    connections: int,
    server_pid: int | None = None,
    cpu: int | None = None,
) -> WrkResult:
    """One thread, `connections` keep-alive connections, as fast as answers come back."""
    binary = ensure_wrk()
    quoted = ",".join(f'"{p}"' for p in paths)
    with tempfile.TemporaryDirectory(prefix="tangible-wrk-") as workdir:
        script = Path(workdir) / "paths.lua"
        script.write_text(_SCRIPT % quoted)
        command = [binary, "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script)]
        command += [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        server_before = cpu_seconds(server_pid) if server_pid is not None else 0.0
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
        out = subprocess.run(
            [*command, base], check=True, capture_output=True, text=True, timeout=seconds + 60, preexec_fn=pin
        )
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server_pid) - server_before if server_pid is not None else None
    generator_cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    requests, elapsed, non_2xx, socket_errors = _parse(out.stdout)
    return WrkResult(requests, elapsed, requests / elapsed, non_2xx, socket_errors, generator_cpu, server_cpu)


@contextmanager
def pinned(server_pid: int) -> Iterator[tuple[int, int] | None]:
    """The server on one core, the generator on another: (server's, generator's), or None on
    a machine of one core. The server's affinity is restored afterwards."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        yield None
        return
    threads = _threads(server_pid)  # affinity is per thread: every thread of the server
    before = {tid: os.sched_getaffinity(tid) for tid in threads}
    for tid in threads:
        os.sched_setaffinity(tid, {cores[0]})
    try:
        yield cores[0], cores[1]
    finally:
        for tid, affinity in before.items():
            with suppress(ProcessLookupError):
                os.sched_setaffinity(tid, affinity)


def _threads(pid: int) -> list[int]:
    return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
