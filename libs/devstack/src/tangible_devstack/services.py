"""The four services as `make run` and the benchmarks start them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tangible_devstack.paths import project_root


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    port: int
    env_prefix: str

    @property
    def listen_port(self) -> int:
        """`<SERVICE>_PORT` from the environment, as the service itself reads it."""
        return int(os.environ.get(f"{self.env_prefix}PORT", self.port))

    @property
    def database(self) -> str:
        return self.name.replace("-", "_")

    @property
    def migrations(self) -> Path:
        return project_root() / "services" / self.name / "migrations"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("usage-ingest", "tangible_ingest", 8001, "USAGE_INGEST_"),
    ServiceSpec("entitlements", "tangible_entitlements", 8002, "ENTITLEMENTS_"),
    ServiceSpec("rewards", "tangible_rewards", 8003, "REWARDS_"),
    ServiceSpec("notifications", "tangible_notifications", 8004, "NOTIFICATIONS_"),
)
