"""`python -m <service> api|consumer|relay|scheduler|all|migrate`: one image, several roles."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from uvicorn.config import STARTUP_FAILURE

from tangible_runtime.migrations import upgrade
from tangible_runtime.settings import ServiceSettings

ROLES = ("api", "consumer", "relay", "scheduler")
ROLES_ENV = "TANGIBLE_ROLES"  # how `serve` tells worker processes which roles to run


class _Server(uvicorn.Server):
    """uvicorn re-raises the SIGTERM it handled once it has shut down, so a role that drained
    its batch and stopped cleanly would still die of the signal (exit -15, like an abrupt
    kill); here a graceful stop exits 0. And uvicorn only notes a SIGTERM that arrives during
    startup, which may wait minutes for Kafka: here such a process exits at once."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if not self.started:  # still starting (waiting for Kafka, say): nothing to drain yet
            raise SystemExit(0)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()  # uvicorn's own list of signals to re-raise


def roles_from_environment(default: Collection[str]) -> set[str]:
    """The roles `serve` chose, in a worker process it started (see `app_factory`)."""
    chosen = os.environ.get(ROLES_ENV)
    return set(chosen.split(",")) if chosen else set(default)


def migrate(migrations: Path, settings: ServiceSettings) -> None:
    """As the owner (`<SERVICE>_MIGRATION_DATABASE_URL`) when it is set, granting the role of
    `<SERVICE>_DATABASE_URL` what the service needs; else as that role itself."""
    owner_url = settings.migration_database_url
    if owner_url is None:
        upgrade(migrations, settings.database_url)
        return
    app_role = make_url(settings.database_url).username
    upgrade(migrations, owner_url, app_role=app_role if app_role != make_url(owner_url).username else None)


def serve(
    *,
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Callable[..., FastAPI],
    migrations: Path,
    roles: Collection[str] = ROLES,
    argv: list[str] | None = None,
    app_factory: str | None = None,
) -> None:
    """Runs one role set in this process; with `<SERVICE>_WORKERS` > 1 and an `app_factory`
    ("module:function" building the app from the environment), uvicorn runs that many
    worker processes on one port instead, each building its own app."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=[*roles, "all", "migrate"], help="what this process runs")
    parser.add_argument("--port", type=int, help="override the service port")
    args = parser.parse_args(argv)
    settings = settings_factory()
    if args.role == "migrate":
        migrate(migrations, settings)
        return
    chosen = set(roles) if args.role == "all" else {args.role}
    options: dict[str, Any] = {
        "host": settings.host,
        "port": args.port or settings.port,
        "log_config": None,  # our JSON logging is configured by the runtime
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.kafka.publish_timeout_seconds) + 5,
    }
    if app_factory is not None and settings.workers > 1:
        os.environ[ROLES_ENV] = ",".join(sorted(chosen))
        uvicorn.run(app_factory, factory=True, workers=settings.workers, **options)
        return
    server = _Server(uvicorn.Config(bootstrap(settings, roles=chosen), **options))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # as uvicorn.run: a failed startup is a failed process
        raise SystemExit(STARTUP_FAILURE)
