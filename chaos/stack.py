"""The chaos run's own infrastructure and processes.

Kafka advertises a toxiproxy port (clients learn broker addresses from metadata, so the
proxy must be what the broker advertises); PostgreSQL is reached through another proxy.
Every service role runs as its own process (`python -m <package> <role>`), so each can
be killed and restarted alone. The run itself reads PostgreSQL directly.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chaos.toxiproxy import Toxiproxy
from tangible_devstack.databases import APP_ROLE, as_role, create_database, ensure_app_role, with_database
from tangible_devstack.kafka import KafkaBroker
from tangible_devstack.postgres import EmbeddedPostgres
from tangible_devstack.processes import spawn, terminate
from tangible_devstack.services import SERVICES
from tangible_runtime.auth import TokenIssuer, generate_keypair
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.migrations import upgrade
from tangible_runtime.settings import KafkaSettings

SPECS = {spec.name: spec for spec in SERVICES}
# service → roles, each its own process (ingest's scheduler only prunes dedup keys: left out)
ROLES: dict[str, tuple[str, ...]] = {
    "usage-ingest": ("api",),
    "entitlements": ("api", "consumer", "relay", "scheduler"),
    "rewards": ("api", "consumer", "relay", "scheduler"),
    "notifications": ("api", "consumer", "relay", "scheduler", "delivery"),
}
KAFKA_PROXY, POSTGRES_PROXY = "kafka", "postgres"
# the roles a scaled-out run starts more than once (the APIs stay single: clients hold their URLs)
REPLICATED_ROLES = frozenset({"consumer", "relay", "scheduler", "delivery"})


_HANDED_OUT: set[int] = set()


def stable_port() -> int:
    """A free port below Linux's ephemeral range (32768+): a process restarted on its port
    must not find it taken as the local port of some outgoing connection meanwhile (a port
    from bind(0) is ephemeral, and the run churns thousands of connections). Never the same
    port twice in one run: ports are chosen before their processes bind them, so a free port
    is not yet proof that no other process was given it."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port in 20000-32000")


@dataclass
class ServiceProcess:
    """One role of one service; `kill` is SIGKILL, `start` starts a fresh process."""

    service: str
    role: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=stable_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    replica: int = 1

    @classmethod
    def logging_to(
        cls, folder: Path, service: str, role: str, env: dict[str, str], replica: int = 1
    ) -> ServiceProcess:
        process = cls(service, role, env, folder, replica=replica)
        process.log_path = folder / f"{process.name}.log"
        return process

    @property
    def name(self) -> str:
        return f"{self.service}-{self.role}" + (f"-{self.replica}" if self.replica > 1 else "")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.alive():  # one process per role replica, whoever asks
            return
        spec = SPECS[self.service]
        env = {**self.env, f"{spec.env_prefix}PORT": str(self.port)}
        self.process = spawn([sys.executable, "-m", spec.package, self.role], log_path=self.log_path, env=env)
        self.starts += 1

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait: the exit code, or None if it had to be SIGKILLed after `timeout`."""
        if self.process is None:
            return None
        if self.process.poll() is not None:  # already gone: say how it ended
            return self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, timeout=20)


@dataclass
class ChaosStack:
    workdir: Path
    tenant_id: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:6]}")
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)  # direct, as the owner, for the run's reads
    app_role: str | None = None  # what the services connect as (row-level security binds it)
    replicas: int = 1  # processes of each role in REPLICATED_ROLES
    partitioned: str | None = None  # a service reaching PostgreSQL through a proxy of its own

    @property
    def partition_proxy(self) -> str | None:
        return f"{POSTGRES_PROXY}-{self.partitioned}" if self.partitioned else None

    def __post_init__(self) -> None:
        self.toxiproxy = Toxiproxy(self.workdir / "toxiproxy.log")
        self.kafka_proxy_port, self.postgres_proxy_port = stable_port(), stable_port()
        self.own_proxy_port = stable_port()
        self.broker = KafkaBroker(
            self.workdir / "kafka",
            port=stable_port(),
            controller_port=stable_port(),
            advertised_port=self.kafka_proxy_port,
        )
        self.postgres = EmbeddedPostgres(self.workdir / "postgres", port=stable_port())
        private, public = generate_keypair()
        self.issuer = TokenIssuer(private, issuer="tangible")
        (self.workdir / "auth").mkdir(parents=True, exist_ok=True)
        self.private_key, self.public_key = (
            self.workdir / "auth/private.pem",
            self.workdir / "auth/public.pem",
        )
        self.private_key.write_text(private)
        self.public_key.write_text(public)

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_proxy_port}"

    @property
    def kafka_settings(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.kafka_bootstrap)

    def token(self, *scopes: str, account_id: str | None = None) -> str:
        return self.issuer.issue(tenant_id=self.tenant_id, scopes=scopes, account_id=account_id).token

    def url(self, service: str, role: str = "api") -> str:
        return self.processes[f"{service}-{role}"].base_url

    def start_infrastructure(self, stack: ExitStack) -> None:
        self.toxiproxy.start()
        stack.callback(self.toxiproxy.stop)
        self.toxiproxy.create_proxy(
            KAFKA_PROXY, listen_port=self.kafka_proxy_port, upstream_port=self.broker.port
        )
        self.toxiproxy.create_proxy(
            POSTGRES_PROXY, listen_port=self.postgres_proxy_port, upstream_port=self.postgres.port
        )
        if self.partition_proxy:
            self.toxiproxy.create_proxy(
                self.partition_proxy, listen_port=self.own_proxy_port, upstream_port=self.postgres.port
            )
        self.broker.start(wait=False)
        stack.callback(self.broker.stop)
        self.postgres.start()
        stack.callback(self.postgres.stop)
        self.broker.wait_ready()
        clients = KafkaClients(self.kafka_settings)
        asyncio.run(clients.wait_until_reachable(timeout=120))
        asyncio.run(clients.ensure_topics())
        # the services run as in production: as a role that owns no table, under row-level security
        self.app_role = APP_ROLE if asyncio.run(ensure_app_role(self.postgres.admin_url)) else None
        for service in ROLES:
            spec = SPECS[service]
            asyncio.run(create_database(self.postgres.admin_url, spec.database))
            self.database_urls[service] = with_database(self.postgres.admin_url, spec.database)
            upgrade(spec.migrations, self.database_urls[service], app_role=self.app_role)

    def _env(self, service: str, extra: dict[str, str]) -> dict[str, str]:
        spec = SPECS[service]
        port = self.own_proxy_port if service == self.partitioned else self.postgres_proxy_port
        proxied = with_database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres", spec.database)
        if self.app_role is not None:
            proxied = as_role(proxied, self.app_role)
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": "",
            "TANGIBLE_AUTH_PUBLIC_KEY": str(self.public_key),
            "LOG_LEVEL": "WARNING",
            f"{spec.env_prefix}DATABASE_URL": proxied,
            **extra,
        }

    def start_services(self, stack: ExitStack, extra_env: dict[str, dict[str, str]]) -> None:
        """Every role of every service as its own process; returns once each /readyz is 200."""
        for service, role, replica in role_replicas(self.replicas):
            env = self._env(service, extra_env.get(service, {}))
            process = ServiceProcess.logging_to(self.workdir / "logs", service, role, env, replica)
            self.processes[process.name] = process
        for process in self.processes.values():
            if process.service == "notifications":
                process.env["NOTIFICATIONS_ENTITLEMENTS_URL"] = self.url("entitlements")
                process.env["NOTIFICATIONS_REWARDS_URL"] = self.url("rewards")
            process.start()
            stack.callback(process.stop)
        deadline = time.monotonic() + 120 + 10 * len(self.processes)  # two cores start them all
        for process in self.processes.values():
            wait_ready(process, deadline)


def role_replicas(replicas: int) -> list[tuple[str, str, int]]:
    """(service, role, replica) of every process a run starts."""
    return [
        (service, role, replica)
        for service, roles in ROLES.items()
        for role in roles
        for replica in range(1, (replicas if role in REPLICATED_ROLES else 1) + 1)
    ]


def wait_ready(process: ServiceProcess, deadline: float) -> None:
    url = f"{process.base_url}/readyz"
    while True:
        if not process.alive():
            tail = process.log_path.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(f"{process.name} exited:\n" + "\n".join(tail))
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{process.name} not ready; see {process.log_path}")
        time.sleep(0.25)
