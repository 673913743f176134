"""The bench's HTTP load generator for the check path: vegeta (Go), driven as a subprocess.

The pure-Python generator (bench/http_load.py) took most of a core on the 2-core bench
machine, so its figures for the check path measured the generator more than the server.
vegeta sends the same requests from compiled code; it runs with GOMAXPROCS=1 and a bounded
number of workers so that the other core stays with the server.

Two modes:
- `fixed_rate`: open loop. vegeta's pacer sends request i at start + i / rate whatever the
  answers do. Its latency counts from the moment the request left, so a generator that falls
  behind (every worker busy, or no CPU) would hide the lag: `unsent` and `attack_rate` say
  whether it kept up (requests that were due but never sent, and the rate actually sent).
- `max_throughput`: `-rate=0`, each worker sends its next request as soon as the last one
  answered (closed loop over `workers` connections).
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.resources import cpu_seconds
from tangible_devstack.paths import project_root

NANOSECONDS = 1e9
OPEN_LOOP_MAX_WORKERS = 256  # as many requests in flight as the old generator allowed


def ensure_vegeta() -> Path:
    """Path of the vegeta binary; scripts/ensure-go-tool.sh builds it once into .cache/bin."""
    script = project_root() / "scripts" / "ensure-go-tool.sh"
    out = subprocess.run(["bash", str(script), "vegeta"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Target:
    method: str
    url: str
    headers: Mapping[str, str]

    def as_http_format(self) -> str:
        """vegeta's `http` targets format: the request line, its headers, a blank line."""
        lines = [f"{self.method} {self.url}", *(f"{k}: {v}" for k, v in self.headers.items())]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Result:
    """`vegeta report -type=json`, latencies in seconds."""

    requests: int
    attack_rate: float  # requests sent per second
    throughput: float  # successful responses per second
    success: float  # share of responses with a 2xx/3xx status
    status_codes: dict[int, int]  # 0: no response (connection error, timeout)
    errors: list[str]  # vegeta's distinct error messages
    p50: float
    p90: float
    p99: float
    max: float
    seconds: float
    generator_cpu: float = 0.0  # vegeta's CPU seconds during the attack
    server_cpu: float | None = None  # the server's, when its process id was given

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> Result:
        latencies = report["latencies"]
        return cls(
            requests=int(report["requests"]),
            attack_rate=float(report["rate"]),
            throughput=float(report["throughput"]),
            success=float(report["success"]),
            status_codes={int(code): int(n) for code, n in (report.get("status_codes") or {}).items()},
            errors=list(report.get("errors") or []),
            p50=latencies["50th"] / NANOSECONDS,
            p90=latencies["90th"] / NANOSECONDS,
            p99=latencies["99th"] / NANOSECONDS,
            max=latencies["max"] / NANOSECONDS,
            seconds=report["duration"] / NANOSECONDS,
        )

    @property
    def failed(self) -> int:
        """Requests without a successful answer (connection errors and non-2xx/3xx)."""
        return self.requests - round(self.success * self.requests)

    def costs(self) -> dict[str, float]:
        """CPU per request on each side: what the rates would be on a core of one's own."""
        found = {"generator_cpu_us_per_request": round(self.generator_cpu / max(self.requests, 1) * 1e6, 1)}
        if self.server_cpu is not None:
            found["server_cpu_us_per_request"] = round(self.server_cpu / max(self.requests, 1) * 1e6, 1)
        return found


@dataclass(frozen=True)
class FixedRate:
    result: Result
    rate: float
    seconds: float

    @property
    def unsent(self) -> int:
        """Requests due in the window that the generator never sent (it fell behind)."""
        return max(0, round(self.rate * self.seconds) - self.result.requests)

    def honesty(self) -> dict[str, Any]:
        """What a reader needs to trust the latency: errors, the generator's own shortfall."""
        return {
            "rate": self.rate,
            "requests": self.result.requests,
            "errors": self.result.failed,
            "unsent": self.unsent,
            "attack_rate": round(self.result.attack_rate, 1),
            "generator": "vegeta open loop, GOMAXPROCS=1",
            **self.result.costs(),
        }


def attack(
    targets: Sequence[Target],
    *,
    rate: float,
    seconds: float,
    workers: int,
    max_workers: int,
    server_pid: int | None = None,
    timeout: float = 10.0,
    cpu: int | None = None,
) -> Result:
    """One `vegeta attack` (targets taken round-robin), then its JSON report. `rate` 0 means
    as fast as the workers go (vegeta then needs `max_workers`). With `server_pid`, the
    result also says how much CPU the server spent meanwhile."""
    binary = ensure_vegeta()
    env = {**os.environ, "GOMAXPROCS": "1"}  # one core for the generator, the other for the server
    with tempfile.TemporaryDirectory(prefix="tangible-vegeta-") as workdir:
        targets_file = Path(workdir) / "targets.txt"
        targets_file.write_text("\n".join(t.as_http_format() for t in targets))
        results_file = Path(workdir) / "results.bin"
        command = [
            str(binary),
            "attack",
            f"-targets={targets_file}",
            f"-output={results_file}",
            f"-rate={rate:g}/1s" if rate else "-rate=0",
            f"-duration={seconds:g}s",
            f"-workers={workers}",
            f"-max-workers={max_workers}",
            f"-timeout={timeout:g}s",
            "-redirects=-1",  # a check never redirects; count a 3xx as what it is
            "-max-body=0",  # bodies are read and dropped, not stored in every result: less generator CPU
        ]
        server_before = cpu_seconds(server_pid) if server_pid is not None else 0.0
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None  # a core of its own
        subprocess.run(
            command, check=True, env=env, capture_output=True, timeout=seconds + timeout + 60, preexec_fn=pin
        )
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = cpu_seconds(server_pid) - server_before if server_pid is not None else None
        generator_cpu = (children.ru_utime - children_before.ru_utime) + (
            children.ru_stime - children_before.ru_stime
        )
        report = subprocess.run(
            [str(binary), "report", "-type=json", str(results_file)],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
    result = Result.from_report(json.loads(report.stdout))
    return dataclasses.replace(result, generator_cpu=generator_cpu, server_cpu=server_cpu)


def fixed_rate(
    targets: Sequence[Target],
    *,
    rate: float,
    seconds: float,
    server_pid: int | None = None,
    workers: int = 32,
    cpu: int | None = None,
) -> FixedRate:
    """Open loop at `rate`: up to OPEN_LOOP_MAX_WORKERS requests in flight."""
    result = attack(
        targets,
        rate=rate,
        seconds=seconds,
        workers=workers,
        max_workers=OPEN_LOOP_MAX_WORKERS,
        server_pid=server_pid,
        cpu=cpu,
    )
    return FixedRate(result, rate, seconds)


def max_throughput(
    targets: Sequence[Target], *, seconds: float, workers: int, server_pid: int | None = None
) -> Result:
    """Closed loop over `workers` keep-alive connections, each sending back to back."""
    return attack(
        targets, rate=0, seconds=seconds, workers=workers, max_workers=workers, server_pid=server_pid
    )
