"""`make run` keeps its services up the way the chart's pods are kept up: a service that
exits (crash, OOM, `kill -9`) is started again, after an exponential backoff like
Kubernetes' CrashLoopBackOff, and the terminal says so in one line each time."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from signal import Signals

import httpx

from tangible_devstack.processes import spawn, terminate
from tangible_devstack.services import ServiceSpec


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    factor: float = 2.0
    ceiling: float = 30.0
    # up this long, a service is healthy again: its next crash waits `first` again
    reset_after: float = 60.0

    def delay(self, restarts: int) -> float:
        """Before the `restarts`-th restart (1-based)."""
        return float(min(self.ceiling, self.first * self.factor ** (restarts - 1)))


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Supervised:
    spec: ServiceSpec
    command: Sequence[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0  # in the current crash loop
    restart_at: float | None = None  # when waiting out a backoff
    awaiting_ready: bool = False


class Supervisor:
    def __init__(
        self,
        backoff: Backoff = Backoff(),
        say: Callable[[str], None] = print,
        is_ready: Callable[[ServiceSpec], bool] | None = None,
    ) -> None:
        self.backoff = backoff
        self._say = say
        self._is_ready = is_ready or _answers_readyz
        self.services: list[Supervised] = []

    def start(self, spec: ServiceSpec, command: Sequence[str], env: dict[str, str], log: Path) -> Supervised:
        service = Supervised(spec, command, env, log, spawn(command, log_path=log, env=env))
        self.services.append(service)
        return service

    def tick(self) -> None:
        """Notice exits, restart what has waited out its backoff, report who is ready again."""
        now = time.monotonic()
        for service in self.services:
            if service.restart_at is not None:
                if now >= service.restart_at:
                    self._restart(service, now)
                continue
            code = service.process.poll()
            if code is None:
                if service.awaiting_ready and self._is_ready(service.spec):
                    service.awaiting_ready = False
                    self._say(f"{service.spec.name} is ready again (restart {service.restarts})")
                continue
            if now - service.started_at >= self.backoff.reset_after:
                service.restarts = 0
            service.restarts += 1
            delay = self.backoff.delay(service.restarts)
            service.restart_at = now + delay
            self._say(
                f"{service.spec.name} {describe_exit(code)}; restarting it in {delay:g}s "
                f"(restart {service.restarts}, backoff up to {self.backoff.ceiling:g}s; log: {service.log})"
            )

    def _restart(self, service: Supervised, now: float) -> None:
        service.process = spawn(service.command, log_path=service.log, env=service.env)
        service.started_at, service.restart_at, service.awaiting_ready = now, None, True
        self._say(f"{service.spec.name} restarted (pid {service.process.pid})")

    def stop_all(self, timeout: float = 20.0) -> None:
        for service in reversed(self.services):
            service.restart_at = None
            terminate(service.process, timeout)


def _answers_readyz(spec: ServiceSpec) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{spec.listen_port}/readyz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False
