"""rewards settings: `REWARDS_*` environment variables on top of the shared ones."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tangible_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REWARDS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/rewards"
    port: int = 8003
    default_time_zone: str = Field(default="UTC", description="Accounts without their own time zone use it.")
    late_event_window_hours: float = Field(
        default=48, ge=0, description="Usage counts toward a period that closed at most this long ago."
    )
    expiry_announce_lead_days: float = Field(
        default=7, ge=0, description="Credits expiring within this lead are announced (once per grant)."
    )
    scheduler_interval_seconds: float = Field(default=30, gt=0)
    scheduler_batch_size: int = Field(default=500, ge=1)
    idempotency_retention_hours: float = Field(default=168, gt=0)
    # the API replicas' in-memory reads (service_layer/live_view.py)
    progress_max_age_seconds: float = Field(
        default=0.5,
        ge=0,
        description="A replica answers progress from memory this long at most: usage moves it "
        "without an event. Grants and credit changes drop it at once (their events).",
    )
    listening_progress_max_age_seconds: float = Field(
        default=60,
        ge=0,
        description="While a replica hears the database's progress announcements (LISTEN), it "
        "keeps progress until one names the account, time moves it, or this long at most.",
    )
    balance_max_age_seconds: float = Field(
        default=60,
        ge=0,
        description="Bound on a memorised balance should the replica miss its events "
        "(every credit change publishes one, which drops it at once).",
    )
    view_max_accounts: int = Field(default=200_000, ge=1, description="Accounts one replica keeps in memory.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
