"""`python -m <service> api|consumer|relay|scheduler|all|migrate`: one image, several roles."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tangible_runtime.migrations import upgrade
from tangible_runtime.settings import ServiceSettings

ROLES = ("api", "consumer", "relay", "scheduler")


def serve(
    *,
    prog: str,
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Callable[..., FastAPI],
    migrations: Path,
    roles: Collection[str] = ROLES,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=[*roles, "all", "migrate"], help="what this process runs")
    parser.add_argument("--port", type=int, help="override the service port")
    args = parser.parse_args(argv)
    settings = settings_factory()
    if args.role == "migrate":
        upgrade(migrations, settings.database_url)
        return
    chosen = set(roles) if args.role == "all" else {args.role}
    app = bootstrap(settings, roles=chosen)
    uvicorn.run(
        app,
        host=settings.host,
        port=args.port or settings.port,
        log_config=None,  # our JSON logging is configured by the runtime
        access_log=False,
        timeout_graceful_shutdown=int(settings.kafka.publish_timeout_seconds) + 5,
    )
