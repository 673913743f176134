"""usage-ingest settings: `USAGE_INGEST_*` environment variables on top of the shared ones."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tangible_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="USAGE_INGEST_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/usage_ingest"
    port: int = 8001
    # a connection lost since its last use fails its request with a 503 instead (see
    # UnitOfWork): the hot path saves three round trips per request
    db_pool_pre_ping: bool = False
    max_events_per_request: int = 1000
    max_request_bytes: int = 1_048_576
    # one event's JSON; under Kafka's default message.max.bytes (1 MiB) with room for headers
    max_event_bytes: int = 1_000_000
    dedup_retention_days: int = 35  # the promise is ≥ 32 days; keep a margin
    max_clock_skew_minutes: int = 60 * 24  # events dated further in the future are rejected
    rate_limit_events_per_second: int = 50_000  # per tenant, per process
    retry_after_seconds: int = 5
    # events appended to the producer and not yet acknowledged; above it, 503 at once
    max_unacknowledged_events: int = 100_000
    # events of the requests being handled; past it a request is shed with a 503 at once
    # (see entrypoints/admission.py). None: 5 full requests (`max_events_per_request`): the
    # bench's peak throughput needs ~4,000 in flight; more only queues (docs/performance.md)
    max_events_in_flight: int | None = Field(default=None, ge=1)
    # a shed request's Retry-After, jittered up to twice it
    shed_retry_after_seconds: int = Field(default=1, ge=1)

    @property
    def events_in_flight_bound(self) -> int:
        return self.max_events_in_flight or 5 * self.max_events_per_request


@lru_cache
def get_settings() -> Settings:
    return Settings()
