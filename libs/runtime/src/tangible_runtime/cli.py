"""`python -m <service> api|consumer|relay|scheduler|all|migrate`: one image, several roles."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from uvicorn.config import STARTUP_FAILURE

from tangible_runtime.http_protocol import CoalescingHttpToolsProtocol
from tangible_runtime.migrations import upgrade
from tangible_runtime.service import ServiceRuntime
from tangible_runtime.settings import ServiceSettings, configuration_errors

ROLES = ("api", "consumer", "relay", "scheduler")
ROLES_ENV = "TANGIBLE_ROLES"  # how `serve` tells worker processes which roles to run
# where a worker process marks that its startup failed (`serve` then exits with that status)
STARTUP_FAILED_ENV = "TANGIBLE_STARTUP_FAILED_FILE"


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


def served_by_a_worker(app: FastAPI) -> FastAPI:
    """The app of one of uvicorn's worker processes (see `app_factory`), started as a single
    process's is: the port is bound at once and Kafka awaited behind `/readyz`. A worker whose
    startup fails stops the whole server (its supervisor would otherwise restart it for ever)
    and `serve` exits with the startup-failure status."""
    runtime: ServiceRuntime = app.state.runtime
    runtime.bind_before_ready = True

    def stop_the_server() -> None:
        marker = os.environ.get(STARTUP_FAILED_ENV)
        if marker:
            Path(marker).touch()
        os.kill(os.getppid(), signal.SIGTERM)

    runtime.on_startup_failure = stop_the_server
    return app


def migrate(migrations: Path, settings: ServiceSettings) -> None:
    """As the owner (`<SERVICE>_MIGRATION_DATABASE_URL`) when it is set, granting the role of
    `<SERVICE>_DATABASE_URL` what the service needs; else as that role itself."""
    owner_url = settings.migration_database_url
    if owner_url is None:
        upgrade(migrations, settings.database_url)
        return
    app_role = make_url(settings.database_url).username
    upgrade(migrations, owner_url, app_role=app_role if app_role != make_url(owner_url).username else None)


def _load_settings(prog: str, settings_factory: Callable[[], ServiceSettings]) -> ServiceSettings:
    """A misconfiguration ends the process with one line per problem, naming the variable,
    instead of a validation traceback (or a driver's error much later)."""
    try:
        return settings_factory()
    except ValidationError as error:
        settings_class = settings_factory if isinstance(settings_factory, type) else ServiceSettings
        for line in configuration_errors(error, settings_class):
            sys.stderr.write(f"{prog}: configuration error: {line}\n")
        raise SystemExit(2) from None


def _cause(error: BaseException) -> str:
    """The innermost cause, in one line: what the operator can act on."""
    while error.__cause__ is not None or (error.__context__ is not None and not error.__suppress_context__):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def _migrate_or_exit(prog: str, migrations: Path, settings: ServiceSettings) -> None:
    """A failed migration is one line naming the database and the cause (the exit status
    still fails the Job), not Alembic's and the driver's stacked tracebacks."""
    target = settings.migration_database_url or settings.database_url
    try:
        migrate(migrations, settings)
    except Exception as error:
        url = make_url(target)
        where = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        user = f"{url.username}@" if url.username else ""
        sys.stderr.write(f"{prog}: migrate failed against {user}{where}: {_cause(error)}\n")
        raise SystemExit(1) from None


def serve(
    *,
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Callable[..., FastAPI],
    migrations: Path,
    roles: Collection[str] = ROLES,
    argv: list[str] | None = None,
    app_factory: str | None = None,
    consumer_groups: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Runs one role set in this process; with `<SERVICE>_WORKERS` > 1 and an `app_factory`
    ("module:function" building the app from the environment), uvicorn runs that many
    worker processes on one port instead, each building its own app.

    `consumer_groups` (group → topics it reads) enables `<prog> consumer-offsets ...`, the
    consumer positions of a database restore (see `consumer_offsets`)."""
    arguments = sys.argv[1:] if argv is None else argv
    if consumer_groups is not None and arguments[:1] == ["consumer-offsets"]:
        from tangible_runtime import consumer_offsets
        from tangible_runtime.settings import KafkaSettings

        # only the KAFKA_* variables matter here: no database or keys needed to run it
        consumer_offsets.main(arguments[1:], prog=prog, kafka=KafkaSettings(), groups=consumer_groups)
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=[*roles, "all", "migrate"], help="what this process runs")
    parser.add_argument("--port", type=int, help="override the service port")
    args = parser.parse_args(argv)
    settings = _load_settings(prog, settings_factory)
    if args.role == "migrate":
        _migrate_or_exit(prog, migrations, settings)
        return
    chosen = set(roles) if args.role == "all" else {args.role}
    options: dict[str, Any] = {
        "host": settings.host,
        "port": args.port or settings.port,
        "log_config": None,  # our JSON logging is configured by the runtime
        "access_log": False,
        "http": CoalescingHttpToolsProtocol,  # a response's head and body in one write
        "timeout_graceful_shutdown": int(settings.kafka.publish_timeout_seconds) + 5,
    }
    if app_factory is not None and settings.workers > 1:
        os.environ[ROLES_ENV] = ",".join(sorted(chosen))
        with tempfile.TemporaryDirectory(prefix=f"{prog}-") as scratch:
            failed = Path(scratch) / "startup-failed"
            os.environ[STARTUP_FAILED_ENV] = str(failed)
            uvicorn.run(app_factory, factory=True, workers=settings.workers, **options)
            if failed.exists():
                raise SystemExit(STARTUP_FAILURE)
        return
    app = bootstrap(settings, roles=chosen)
    server = _Server(uvicorn.Config(app, **options))
    runtime: ServiceRuntime = app.state.runtime
    # bind the port first and wait for Kafka behind /readyz; a startup that fails in the
    # background stops the server and fails the process as a failed startup would
    runtime.bind_before_ready = True
    runtime.on_startup_failure = lambda: setattr(server, "should_exit", True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started or runtime.startup_error is not None:
        raise SystemExit(STARTUP_FAILURE)
