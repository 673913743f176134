"""FastAPI dependencies of usage-ingest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from tangible_ingest.adapters.metrics import IngestMetrics
from tangible_ingest.adapters.publisher import UsagePublisher
from tangible_ingest.config import Settings
from tangible_ingest.entrypoints.admission import Admission
from tangible_ingest.entrypoints.translate import EventLimits
from tangible_ingest.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.composition import container_dependency
from tangible_runtime.db import SessionFactory
from tangible_runtime.domain import Clock
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.ratelimit import TokenBucketLimiter


@dataclass
class Container:
    """What the routes need, built by bootstrap once the runtime has started."""

    settings: Settings
    clock: Clock
    metrics: RuntimeMetrics
    ingest_metrics: IngestMetrics
    publisher: UsagePublisher
    session_factory: SessionFactory
    limiter: TokenBucketLimiter
    event_limits: EventLimits
    admission: Admission

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.ingest_metrics.observe_dedup)


ContainerDep = Annotated[Container, container_dependency(Container)]
