"""Profiles and the fault schedule: what is broken when, drawn from a seed, and the log of
what was actually done (with times since the load started)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from chaos.stack import KAFKA_PROXY, POSTGRES_PROXY, ChaosStack

# every consumer and relay process (and notifications' sender), each killed per round
KILL_TARGETS = (
    "entitlements-consumer",
    "entitlements-relay",
    "rewards-consumer",
    "rewards-relay",
    "notifications-consumer",
    "notifications-relay",
    "notifications-delivery",
)
# and, once each after the kill rounds, a graceful stop and restart, the ingest API's too
TERM_TARGETS = ("usage-ingest-api", *KILL_TARGETS)
PARTITION_SECONDS = 30.0
RESTART_TIMEOUT = 300.0  # a JVM's start on two cores busy with two dozen processes takes minutes


@dataclass(frozen=True)
class Profile:
    name: str
    accounts: int
    events: int  # sends, duplicates and conflicts included
    rate: float  # sends per second at most
    duplicate_rate: float
    conflict_rate: float
    unknown_events: int  # for accounts without a license: the entitlements dead-letter topic
    kill_rounds: int  # SIGKILLs of each process in KILL_TARGETS
    broker_restarts: int
    postgres_restarts: int
    toxics: int  # latency and connection-reset windows on each proxy
    fault_window: float  # seconds over which faults are spread
    converge_timeout: float
    seed: int = 42
    # scaled out: replicas of every consumer, relay, scheduler and sender role; with more than
    # one, every process (the APIs too) is SIGKILLed `kill_rounds` times
    replicas: int = 1
    scale_events: int = 0  # a replica stopped and started again: two rebalances of its group
    partitions: int = 0  # windows in which one service's database connections go silent


PROFILES = {
    "full": Profile("full", 200, 100_000, 1_500, 0.11, 0.01, 5, 3, 1, 1, 2, 75, 900),
    "short": Profile("short", 60, 5_000, 1_000, 0.11, 0.02, 3, 1, 1, 1, 1, 12, 300),
    "million": Profile(
        "million",
        accounts=2_000,
        events=1_000_000,
        rate=1_200,
        duplicate_rate=0.11,
        conflict_rate=0.01,
        unknown_events=20,
        kill_rounds=5,
        broker_restarts=2,
        postgres_restarts=2,
        toxics=3,
        fault_window=780,
        converge_timeout=1_800,
        replicas=2,
        scale_events=12,
        partitions=1,
    ),
}


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the load starts
    kind: str  # kill | term | scale | partition | broker_restart | postgres_restart | latency | reset_peer
    target: str
    duration: float = 0.0


@dataclass
class Injected:
    kind: str
    target: str
    started: float
    ended: float
    detail: str = ""
    exit_code: int | None = None  # of a SIGTERMed process (None: it had to be SIGKILLed)
    relaunched: float | None = None  # when a killed process was started again

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def schedule(
    profile: Profile,
    *,
    processes: Sequence[str] = TERM_TARGETS,
    replicas: Sequence[str] = (),
    partitioned: str | None = None,
) -> list[Fault]:
    """`processes`: every role process of the run; `replicas`: the second replicas, which the
    scale events stop and start; `partitioned`: the proxy of the service cut from its database."""
    rng = random.Random(profile.seed)
    window = profile.fault_window
    faults: list[Fault] = []
    killed = processes if profile.replicas > 1 else KILL_TARGETS
    for round_ in range(profile.kill_rounds):
        for target in killed:
            at = window * (round_ + rng.uniform(0.1, 0.9)) / profile.kill_rounds
            faults.append(Fault(round(at, 2), "kill", target, rng.uniform(0.5, 3.0)))
    terminated = processes if profile.replicas > 1 else TERM_TARGETS
    for target in terminated:  # after the kill rounds, so that no SIGKILL cuts a shutdown short
        faults.append(Fault(round(window + rng.uniform(4, 10), 2), "term", target, rng.uniform(0.5, 2.0)))
    for n in range(profile.scale_events if replicas else 0):
        at = window * (n + rng.uniform(0.1, 0.6)) / profile.scale_events
        faults.append(Fault(round(at, 2), "scale", replicas[n % len(replicas)], rng.uniform(3, 10)))
    for n in range(profile.partitions if partitioned else 0):
        at = window * (n + 0.4) / profile.partitions
        faults.append(Fault(round(at, 2), "partition", str(partitioned), PARTITION_SECONDS))
    for n in range(profile.broker_restarts):
        faults.append(Fault(window * (0.35 + 0.3 * n), "broker_restart", "kafka", 2.0))
    for n in range(profile.postgres_restarts):
        faults.append(Fault(window * (0.7 - 0.3 * n), "postgres_restart", "postgres", 2.0))
    for n in range(profile.toxics):
        for proxy in (KAFKA_PROXY, POSTGRES_PROXY):
            slot = window * (n + rng.uniform(0.05, 0.25)) / profile.toxics
            faults.append(Fault(round(slot, 2), "latency", proxy, rng.uniform(4, 8)))
            faults.append(Fault(round(slot + window * 0.5 / profile.toxics, 2), "reset_peer", proxy, 2.0))
    return sorted(faults, key=lambda f: f.at)


async def _serving(base_url: str, timeout: float = RESTART_TIMEOUT) -> None:
    """Until the process answers /healthz (started: past its imports and startup)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)


@dataclass
class FaultInjector:
    stack: ChaosStack
    began: float = field(default_factory=time.monotonic)
    log: list[Injected] = field(default_factory=list)
    # faults on one target take turns: a kill landing in a scale event's gap must not start a
    # second process for the same role
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def _now(self) -> float:
        return round(time.monotonic() - self.began, 2)

    async def run(self, faults: list[Fault]) -> None:
        tasks = []
        for fault in faults:
            await asyncio.sleep(max(0.0, fault.at - (time.monotonic() - self.began)))
            tasks.append(asyncio.create_task(self._inject(fault)))
        await asyncio.gather(*tasks)
        self.stack.toxiproxy.reset()

    async def _inject(self, fault: Fault) -> None:
        async with self.locks.setdefault(fault.target, asyncio.Lock()):
            await self._inject_now(fault)

    async def _inject_now(self, fault: Fault) -> None:
        started = self._now()
        detail = ""
        relaunched: float | None = None
        if fault.kind == "kill":
            process = self.stack.processes[fault.target]
            pid = process.process.pid if process.process else None
            await asyncio.to_thread(process.kill)
            await asyncio.sleep(fault.duration)
            relaunched = self._now()
            await asyncio.to_thread(process.start)
            detail = f"SIGKILL pid {pid}, restarted after {fault.duration:.1f}s"
        elif fault.kind in ("term", "scale"):  # scale: a replica leaves its groups, then joins again
            process = self.stack.processes[fault.target]
            await _serving(process.base_url)  # a graceful stop of a running role, not of its imports
            pid = process.process.pid if process.process else None
            exit_code = await asyncio.to_thread(process.terminate)
            await asyncio.sleep(fault.duration)
            await asyncio.to_thread(process.start)
            self.log.append(
                Injected(
                    fault.kind,
                    fault.target,
                    started,
                    self._now(),
                    f"SIGTERM pid {pid}: exit {exit_code}, restarted after {fault.duration:.1f}s",
                    exit_code,
                )
            )
            return
        elif fault.kind == "broker_restart":
            await asyncio.to_thread(self.stack.broker.kill)
            await asyncio.sleep(fault.duration)
            await asyncio.to_thread(self.stack.broker.start, RESTART_TIMEOUT)
            detail = "SIGKILL of the broker JVM, started again"
        elif fault.kind == "partition":
            # silence, not refusal: the timeout toxic drops every byte and closes each connection
            # only after the window, as a network partition does (no RST reaches either side)
            attributes = {"timeout": int(fault.duration * 1000)}
            for stream in ("upstream", "downstream"):
                self.stack.toxiproxy.add_toxic(
                    fault.target, f"partition-{started}-{stream}", "timeout", attributes, stream=stream
                )
            await asyncio.sleep(fault.duration)
            for stream in ("upstream", "downstream"):
                self.stack.toxiproxy.remove_toxic(fault.target, f"partition-{started}-{stream}")
            detail = f"{fault.duration:.0f} s: every byte dropped both ways, connections closed after it"
        elif fault.kind == "postgres_restart":
            await asyncio.to_thread(self.stack.postgres.stop, "immediate")
            await asyncio.sleep(fault.duration)
            await asyncio.to_thread(self.stack.postgres.start)
            detail = "pg_ctl stop -m immediate (crash), started again"
        else:
            name = f"{fault.kind}-{fault.target}-{started}"
            attributes = {"latency": 150, "jitter": 100} if fault.kind == "latency" else {"timeout": 0}
            for stream in ("upstream", "downstream"):
                self.stack.toxiproxy.add_toxic(
                    fault.target, f"{name}-{stream}", fault.kind, attributes, stream=stream
                )
            await asyncio.sleep(fault.duration)
            for stream in ("upstream", "downstream"):
                self.stack.toxiproxy.remove_toxic(fault.target, f"{name}-{stream}")
            detail = f"{fault.kind} {attributes} both directions"
        self.log.append(
            Injected(fault.kind, fault.target, started, self._now(), detail, relaunched=relaunched)
        )


def sender_outages(log: list[Injected], lease: float) -> list[tuple[float, float, str]]:
    """Windows in which the webhook sender could lose a receiver's answer before recording it:
    from the lease before each SIGKILL of the sender until it is started again, and a PostgreSQL
    outage (crash or connection resets) with the lease before it. An acknowledgement in such a
    window may be sent again.

    A kill's window runs past the kill itself: the kernel still delivers the requests the sender
    wrote before it died, and the receiver, on the busy driver's event loop, may answer them a
    moment later (the million run saw 14 acknowledged 0.3 to 0.9 s after the SIGKILL, each sent
    again when its lease ran out). Until it is started again, no new request comes from it."""
    windows: list[tuple[float, float, str]] = []
    for fault in log:
        if fault.kind == "kill" and fault.target.startswith("notifications-delivery"):
            back = fault.relaunched if fault.relaunched is not None else fault.started
            windows.append((fault.started - lease, back, f"sender SIGKILLed at {fault.started:.1f}s"))
        elif fault.kind == "postgres_restart" or (
            fault.target in (POSTGRES_PROXY, f"{POSTGRES_PROXY}-notifications")
            and fault.kind in ("reset_peer", "partition")
        ):
            windows.append(
                (fault.started - lease, fault.ended, f"PostgreSQL {fault.kind} at {fault.started:.1f}s")
            )
    return windows
