"""`make run`: the whole system on embedded defaults, or on what the environment names.

Starts what is not provided (Apache Kafka from Maven Central, embedded PostgreSQL),
creates one database per service, migrates, creates topics, starts every service with
all its roles, waits until each `/readyz` answers 200, and then keeps them up: a service
that exits is restarted with backoff (supervisor.py), as the chart's pods would be. It
stops everything on Ctrl-C, on SIGTERM, and when the `make` that started it is told to
stop or goes away (watchdog.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tangible_devstack.databases import APP_ROLE, as_role, create_database, ensure_app_role, with_database
from tangible_devstack.elements import local_demo_url
from tangible_devstack.kafka import KafkaBroker
from tangible_devstack.paths import data_dir
from tangible_devstack.postgres import EmbeddedPostgres
from tangible_devstack.services import SERVICES, ServiceSpec
from tangible_devstack.supervisor import Supervisor
from tangible_devstack.watchdog import ParentWatchdog
from tangible_runtime.auth import TokenIssuer, generate_keypair
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.migrations import upgrade
from tangible_runtime.settings import KafkaSettings

DEV_TENANT = "demo"
DEMO_ACCOUNT = "acct-1"  # the account README's first `curl` sends usage for


def _say(message: str) -> None:
    print(f"[tangible] {message}", flush=True)


def _auth_keys(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "private.pem", folder / "public.pem"
    if not private.exists():
        private_pem, public_pem = generate_keypair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)
    return private, public


def _cors_env() -> dict[str, str]:
    """The demo page notifications serves calls the other services from its own origin, so
    that origin is always allowed; TANGIBLE_CORS_ALLOWED_ORIGINS adds yours (a page of your
    own trying the components, e.g. `http://localhost:8080`)."""
    port = next(spec.listen_port for spec in SERVICES if spec.name == "notifications")
    yours = [o.strip() for o in os.environ.get("TANGIBLE_CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    origins = [
        *yours,
        *(o for o in (f"http://127.0.0.1:{port}", f"http://localhost:{port}") if o not in yours),
    ]
    return {"TANGIBLE_CORS_ALLOWED_ORIGINS": ",".join(origins)}


def _notifications_env(folder: Path, private_key: Path) -> dict[str, str]:
    """notifications signs its reads of the others' APIs and seals webhook secrets; local
    webhook receivers run on loopback, which production refuses (SSRF guard)."""
    from cryptography.fernet import Fernet

    key = folder / "notifications-secrets.key"
    if not key.exists():
        key.write_text(Fernet.generate_key().decode())
        key.chmod(0o600)
    ports = {spec.name: spec.listen_port for spec in SERVICES}
    return {
        "NOTIFICATIONS_ENTITLEMENTS_URL": f"http://127.0.0.1:{ports['entitlements']}",
        "NOTIFICATIONS_REWARDS_URL": f"http://127.0.0.1:{ports['rewards']}",
        # share links name the port notifications really listens on (NOTIFICATIONS_PORT)
        "NOTIFICATIONS_PUBLIC_URL": os.environ.get(
            "NOTIFICATIONS_PUBLIC_URL", f"http://127.0.0.1:{ports['notifications']}"
        ),
        "TANGIBLE_AUTH_PRIVATE_KEY": str(private_key),
        "NOTIFICATIONS_SECRETS_KEY": key.read_text().strip(),
        "NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": os.environ.get("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", "true"),
        # `make demo` replays 8 weeks of live usage: its past months' thresholds still notify
        "NOTIFICATIONS_PAST_SIGNAL_HOURS": os.environ.get("NOTIFICATIONS_PAST_SIGNAL_HOURS", str(70 * 24)),
    }


def _rewards_env() -> dict[str, str]:
    """`make demo` replays weeks of usage in a minute: events dated weeks ago must still count
    toward their days and months, so the local system accepts late usage for 70 days (the
    service's default is 48 hours)."""
    return {
        "REWARDS_LATE_EVENT_WINDOW_HOURS": os.environ.get("REWARDS_LATE_EVENT_WINDOW_HOURS", str(70 * 24))
    }


def relaxed_switches(env: dict[str, str], *, local_kafka: bool, embedded_postgres: bool) -> list[str]:
    """The safety switches `make run` relaxes (or runs without) for a developer's machine,
    each with what production does instead: printed at start so nobody mistakes it for
    a production-like setup."""
    relaxed: list[str] = []
    if env.get("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", "").lower() == "true":
        relaxed.append(
            "webhook targets on loopback and private networks are allowed "
            "(NOTIFICATIONS_ALLOW_PRIVATE_TARGETS=true; production refuses them, SSRF guard)"
        )
    hours = env.get("REWARDS_LATE_EVENT_WINDOW_HOURS")
    if hours is not None:
        relaxed.append(
            f"rewards counts usage arriving up to {int(hours) // 24} days late "
            f"(REWARDS_LATE_EVENT_WINDOW_HOURS={hours}; the service's default is 48 hours)"
        )
    past = env.get("NOTIFICATIONS_PAST_SIGNAL_HOURS")
    if past is not None:
        relaxed.append(
            f"notifications tells about signals up to {float(past) / 24:g} days old "
            f"(NOTIFICATIONS_PAST_SIGNAL_HOURS={past}; the service's default is 48 hours)"
        )
    origins = env.get("TANGIBLE_CORS_ALLOWED_ORIGINS")
    if origins:
        relaxed.append(
            f"browsers on {origins} may call every API (TANGIBLE_CORS_ALLOWED_ORIGINS; "
            "production lists the vendor's portal origins)"
        )
    if local_kafka:
        relaxed.append("the local Kafka broker speaks PLAINTEXT without authentication (loopback only)")
    if embedded_postgres:
        relaxed.append("the embedded PostgreSQL trusts local connections without a password (loopback only)")
    relaxed.append(
        "the token signing key, the webhook secrets key and admin/ingest/read tokens for tenant "
        f"'{DEV_TENANT}' are stored unencrypted under the data folder"
    )
    return relaxed


def _kafka(stack: ExitStack, data: Path) -> str:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        _say(f"Kafka: {external} (from KAFKA_BOOTSTRAP_SERVERS)")
        return external
    broker = KafkaBroker(
        data / "kafka",
        port=int(os.environ.get("TANGIBLE_KAFKA_PORT", "19092")),
        controller_port=int(os.environ.get("TANGIBLE_KAFKA_CONTROLLER_PORT", "19093")),
    )
    _say(f"Kafka: starting Apache Kafka {broker.version} (KRaft) on {broker.bootstrap_servers}")
    broker.start(wait=False)
    stack.callback(broker.stop)
    stack.callback(_say, "Kafka stopped")
    return broker.bootstrap_servers


@dataclass(frozen=True)
class Database:
    url: str  # what the service connects with (the application role)
    migration_url: str  # the owner of the tables
    app_role: str | None  # granted its privileges by the migrations


def _databases(stack: ExitStack, data: Path) -> dict[str, Database]:
    """Named in the environment (`<SERVICE>_DATABASE_URL`, and the owner's
    `<SERVICE>_MIGRATION_DATABASE_URL` if it differs), else on the embedded server."""
    found: dict[str, Database] = {}
    for spec in SERVICES:
        url = os.environ.get(f"{spec.env_prefix}DATABASE_URL")
        if url:
            owner = os.environ.get(f"{spec.env_prefix}MIGRATION_DATABASE_URL") or url
            role = make_url(url).username
            found[spec.name] = Database(url, owner, role if role != make_url(owner).username else None)
    missing = [s for s in SERVICES if s.name not in found]
    if missing:
        postgres = EmbeddedPostgres(
            data / "postgres", port=int(os.environ.get("TANGIBLE_POSTGRES_PORT", "15432"))
        )
        _say(f"PostgreSQL: starting embedded PostgreSQL 18 on 127.0.0.1:{postgres.port}")
        postgres.start()
        stack.callback(postgres.stop)
        stack.callback(_say, "PostgreSQL stopped")
        asyncio.run(ensure_app_role(postgres.admin_url))
        for spec in missing:
            asyncio.run(create_database(postgres.admin_url, spec.database))
            owner = with_database(postgres.admin_url, spec.database)
            found[spec.name] = Database(as_role(owner), owner, APP_ROLE)
    return found


def _wait_ready(spec: ServiceSpec, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    url = f"http://127.0.0.1:{spec.listen_port}/readyz"
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-20:]
            raise RuntimeError(f"{spec.name} exited with {process.returncode}:\n" + "\n".join(tail))
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{spec.name} was not ready within the deadline; see {log}")
        time.sleep(0.25)


def _dev_tokens(private_key: Path, data: Path) -> dict[str, str]:
    issuer = TokenIssuer(str(private_key), issuer="tangible")
    tokens = {
        scope: issuer.issue(tenant_id=DEV_TENANT, scopes=[scope]).token
        for scope in ("admin", "ingest", "read")
    }
    (data / "dev-tokens.json").write_text(json.dumps({"tenant": DEV_TENANT, **tokens}, indent=2))
    return tokens


def run() -> int:
    started = time.monotonic()
    data = data_dir()
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with ExitStack() as stack:
        private_key, public_key = _auth_keys(data / "auth")
        bootstrap = _kafka(stack, data)
        urls = _databases(stack, data)
        kafka = KafkaClients(KafkaSettings(bootstrap_servers=bootstrap))
        asyncio.run(kafka.wait_until_reachable(timeout=120))
        asyncio.run(kafka.ensure_topics())
        for spec in SERVICES:
            database = urls[spec.name]
            upgrade(spec.migrations, database.migration_url, app_role=database.app_role)
        _say("databases migrated, topics created")
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "TANGIBLE_AUTH_PUBLIC_KEY": str(public_key),
            **_cors_env(),
        }
        supervisor = Supervisor(say=_say)
        stack.callback(supervisor.stop_all)
        for spec in SERVICES:
            log = data / "logs" / f"{spec.name}.log"
            child_env = {**env, f"{spec.env_prefix}DATABASE_URL": urls[spec.name].url}
            if spec.name == "notifications":
                child_env = {**_notifications_env(data / "auth", private_key), **child_env}
            if spec.name == "rewards":
                child_env = {**child_env, **_rewards_env()}
            if spec.name == "entitlements":  # issues API keys and portal tokens over HTTP
                child_env = {**child_env, "TANGIBLE_AUTH_PRIVATE_KEY": str(private_key)}
            supervisor.start(spec, [sys.executable, "-m", spec.package, "all"], child_env, log)
        deadline = time.monotonic() + 120
        for service in supervisor.services:
            _wait_ready(service.spec, service.process, service.log, deadline)
        tokens = _dev_tokens(private_key, data)
        _say(f"ready in {time.monotonic() - started:.1f}s")
        for service in supervisor.services:
            base = f"http://127.0.0.1:{service.spec.listen_port}"
            print(f"  {service.spec.name:<14} {base}   docs: {base}/docs   log: {service.log}")
        print(f"\n  tenant '{DEV_TENANT}' tokens (also in {data / 'dev-tokens.json'}):")
        for scope, token in tokens.items():
            print(f"  {scope:<7} {token}")
        page = local_demo_url(DEMO_ACCOUNT, tenant=DEV_TENANT, data=data)
        print(f"\n  The web components' demo page, account '{DEMO_ACCOUNT}' (fills as its usage arrives; ")
        print("  `make demo` replays eight weeks into a tenant of its own and prints its page):")
        print(f"  {page}")
        relaxed = relaxed_switches(
            {**_notifications_env(data / "auth", private_key), **_rewards_env(), **_cors_env()},
            local_kafka=not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
            embedded_postgres=any(os.environ.get(f"{s.env_prefix}DATABASE_URL") is None for s in SERVICES),
        )
        print("\n  Relaxed for local use (never do this in production):")
        for line in relaxed:
            print(f"  - {line}")
        print("\n  A service that exits is restarted, with backoff. Ctrl-C stops everything.", flush=True)
        watchdog = ParentWatchdog()
        while not stopping:
            supervisor.tick()
            reason = watchdog.reason_to_stop()
            if reason is not None:
                _say(f"{reason}; stopping")
                stopping = True
            time.sleep(0.5)
        _say("stopping services")
    _say("stopped")
    return 0
