"""FastAPI dependencies of entitlements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from tangible_entitlements.adapters.tables import outbox
from tangible_entitlements.config import Settings
from tangible_entitlements.service_layer.change_hub import ChangeHub
from tangible_entitlements.service_layer.cohorts import CohortDistributions
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_entitlements.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.composition import container_dependency
from tangible_runtime.db import SessionFactory
from tangible_runtime.domain import Clock

SOURCE = "tangible/entitlements"


@dataclass
class Container:
    """What routes and consumers need, built by bootstrap once the runtime has started."""

    settings: Settings
    clock: Clock
    session_factory: SessionFactory
    on_commit: Callable[[], None] | None = None
    view: LiveView | None = None  # the API role's in-memory entitlements
    changes: ChangeHub | None = None  # which accounts changed, for the SDKs' streams (API role)
    issuer: TokenIssuer | None = None  # API keys and portal tokens (where a signing key is set)
    cohorts: CohortDistributions = field(  # the usage report's peer ranking, per process
        default_factory=lambda: CohortDistributions(timedelta(0), min_members=0)
    )

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, outbox_table=outbox, source=SOURCE, on_commit=self.on_commit)


ContainerDep = Annotated[Container, container_dependency(Container)]
