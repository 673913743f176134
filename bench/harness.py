"""What every benchmark needs: real infrastructure and services as separate processes.

Services run as real uvicorn processes (`python -m <package> <role>`) so that HTTP, JSON
and the event loop cost what they cost in production; the bench process is the load
generator. Everything started here is stopped when the run ends.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench.metrics_samples import Scraper, Target
from tangible_devstack.databases import APP_ROLE, as_role, create_database, ensure_app_role, with_database
from tangible_devstack.infrastructure import Infrastructure, start_infrastructure
from tangible_devstack.processes import free_port, spawn, terminate
from tangible_devstack.services import SERVICES, ServiceSpec
from tangible_runtime.auth import TokenIssuer, generate_keypair
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.migrations import upgrade
from tangible_runtime.settings import KafkaSettings

SPECS = {spec.name: spec for spec in SERVICES}


@dataclass
class Bench:
    infra: Infrastructure
    workdir: Path
    stack: ExitStack
    issuer: TokenIssuer
    public_key: Path
    topic_prefix: str = "bench."
    pids: dict[str, int] = field(default_factory=dict)  # base URL → service process id
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # base URL → process
    scraper: Scraper = field(default_factory=Scraper)  # every service's /metrics, for the dashboard

    def pid(self, base: str) -> int:
        """The process serving `base` (a service started with `start_service`)."""
        return self.pids[base]

    def stop(self, base: str, timeout: float = 30.0) -> int | None:
        """SIGTERM to the process serving `base` and wait: its exit code, or None if it had to
        be SIGKILLed after `timeout` (a replica leaving its consumer groups, as a scale-in does)."""
        process = self.processes[base]
        if process.poll() is not None:
            return process.returncode
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            return None

    @property
    def kafka_settings(self) -> KafkaSettings:
        return KafkaSettings(bootstrap_servers=self.infra.kafka_bootstrap, topic_prefix=self.topic_prefix)

    def token(self, tenant_id: str, *scopes: str) -> str:
        return self.issuer.issue(tenant_id=tenant_id, scopes=scopes or ("admin",)).token

    def database(self, name: str) -> str:
        """A fresh, migrated database for one service: migrated as the owner, returned for
        the application role as in production (row-level security applies; see `owner`)."""
        spec = SPECS[name]
        database = f"bench_{spec.database}_{os.getpid()}_{free_port()}"
        asyncio.run(create_database(self.infra.postgres_admin_url, database))
        url = with_database(self.infra.postgres_admin_url, database)
        role = APP_ROLE if asyncio.run(ensure_app_role(self.infra.postgres_admin_url)) else None
        upgrade(spec.migrations, url, app_role=role)
        return as_role(url) if role is not None else url

    def owner(self, url: str) -> str:
        """The same database as its owner: to arrange or inspect rows of any tenant."""
        database = make_url(url).database
        assert database is not None
        return with_database(self.infra.postgres_admin_url, database)

    def start_service(
        self,
        name: str,
        *,
        roles: str = "all",
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """Start one service process; returns its base URL once /readyz answers."""
        [base] = self.start_services([ServiceStart(name, roles, database_url, env or {})])
        return base

    def start_services(self, starts: Sequence[ServiceStart]) -> list[str]:
        """Start the processes all at once and wait until every one is ready (their imports
        and start-ups overlap); returns their base URLs in order."""
        started: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        for start in starts:
            spec: ServiceSpec = SPECS[start.name]
            port = free_port()
            child_env = {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": self.infra.kafka_bootstrap,
                "KAFKA_TOPIC_PREFIX": self.topic_prefix,
                "TANGIBLE_AUTH_PUBLIC_KEY": str(self.public_key),
                "LOG_LEVEL": "WARNING",
                f"{spec.env_prefix}DATABASE_URL": start.database_url or self.database(start.name),
                f"{spec.env_prefix}PORT": str(port),
                **start.env,
            }
            log = self.workdir / "logs" / f"{start.name}-{port}.log"
            process = spawn([sys.executable, "-m", spec.package, start.roles], log_path=log, env=child_env)
            base = f"http://127.0.0.1:{port}"
            self.pids[base] = process.pid
            self.processes[base] = process
            self.scraper.add(Target(start.name, base, f"{start.name}-{port}"))
            started.append((base, process, log))

        self.stack.callback(_stop_together, [process for _, process, _ in started])

        async def all_ready() -> None:
            await asyncio.gather(*(_wait_ready(base, process.poll, log) for base, process, log in started))

        asyncio.run(all_ready())
        return [base for base, _, _ in started]


@dataclass(frozen=True)
class ServiceStart:
    name: str
    roles: str = "all"
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def _stop_together(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each at once, then wait for each: their graceful shutdowns overlap."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        terminate(process, 20.0)


async def _wait_ready(base: str, exited: object, log: Path, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=base) as client:
        while True:
            if callable(exited) and exited() is not None:
                raise RuntimeError(f"{base} exited; see {log}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{base} not ready; see {log}")
            await asyncio.sleep(0.2)


@contextmanager
def bench_environment(topic_prefixes: Sequence[str] = ("bench.",)) -> Iterator[Bench]:
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="tangible-bench-"))
        infra = start_infrastructure(stack, workdir)
        private, public = generate_keypair()
        public_key = workdir / "public.pem"
        public_key.write_text(public)
        bench = Bench(infra, workdir, stack, TokenIssuer(private, issuer="tangible"), public_key)
        clients = KafkaClients(bench.kafka_settings)
        asyncio.run(clients.wait_until_reachable())
        asyncio.run(clients.ensure_topics())
        print(f"[bench] infrastructure: {infra.description}", flush=True)
        bench.scraper.start()
        stack.callback(bench.scraper.stop)
        yield bench
