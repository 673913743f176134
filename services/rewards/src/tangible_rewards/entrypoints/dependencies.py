"""FastAPI dependencies of rewards, and the container routes, consumers and the scheduler share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Query

from tangible_rewards.adapters.tables import outbox
from tangible_rewards.config import Settings
from tangible_rewards.service_layer.live_view import LiveView
from tangible_rewards.service_layer.policy import Policy
from tangible_rewards.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.composition import container_dependency
from tangible_runtime.db import SessionFactory
from tangible_runtime.domain import Clock

SOURCE = "tangible/rewards"


def policy_from(settings: Settings) -> Policy:
    return Policy(
        default_time_zone=settings.default_time_zone,
        late_window=timedelta(hours=settings.late_event_window_hours),
        expiry_lead=timedelta(days=settings.expiry_announce_lead_days),
        scheduler_batch=settings.scheduler_batch_size,
        idempotency_retention=timedelta(hours=settings.idempotency_retention_hours),
    )


@dataclass
class Container:
    """What routes, consumers and the scheduler need, built by bootstrap once the runtime started."""

    settings: Settings
    clock: Clock
    session_factory: SessionFactory
    policy: Policy
    on_commit: Callable[[], None] | None = None
    view: LiveView | None = None  # the API role's in-memory balance and progress reads

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            outbox_table=outbox,
            source=SOURCE,
            on_commit=self.on_commit,
            on_change=self.view.invalidate if self.view is not None else None,
        )


def view_from(settings: Settings) -> LiveView:
    return LiveView(
        progress_max_age=settings.progress_max_age_seconds,
        listening_progress_max_age=settings.listening_progress_max_age_seconds,
        balance_max_age=settings.balance_max_age_seconds,
        max_accounts=settings.view_max_accounts,
    )


ContainerDep = Annotated[Container, container_dependency(Container)]
UnitQuery = Annotated[str, Query(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="Credit unit.")]
