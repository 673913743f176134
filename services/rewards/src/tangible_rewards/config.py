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


@lru_cache
def get_settings() -> Settings:
    return Settings()
