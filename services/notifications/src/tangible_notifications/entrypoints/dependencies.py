"""FastAPI dependencies of notifications, and the container routes and workers share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.tables import outbox
from tangible_notifications.config import Settings
from tangible_notifications.domain.sharing import ShareSigner
from tangible_notifications.service_layer.ports import ReportSources
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.composition import container_dependency
from tangible_runtime.db import SessionFactory
from tangible_runtime.domain import Clock
from tangible_runtime.live import LiveHub

SOURCE = "tangible/notifications"


def _nothing() -> None:
    return None


@dataclass
class Container:
    """What routes and workers need, built by bootstrap once the runtime has started."""

    settings: Settings
    clock: Clock
    session_factory: SessionFactory
    box: SecretBox
    on_commit: Callable[[], None] | None = None
    # in-process hint that deliveries became due (other replicas poll)
    wake_delivery: Callable[[], None] = field(default=_nothing)
    live_hub: LiveHub | None = None  # the API role's follower of the accounts' live events
    # impact reports (API and delivery roles): the other services' figures, share-link tokens
    report_sources: ReportSources | None = None
    share_signer: ShareSigner | None = None

    def new_uow(self, tenant: str | None = None) -> UnitOfWork:
        """`tenant`: for work without a principal that must see one tenant's rows only."""
        return UnitOfWork(
            self.session_factory, outbox_table=outbox, source=SOURCE, on_commit=self.on_commit, tenant=tenant
        )


ContainerDep = Annotated[Container, container_dependency(Container)]
