"""notifications settings: `NOTIFICATIONS_*` environment variables on top of the shared ones."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from tangible_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/notifications"
    port: int = 8004


@lru_cache
def get_settings() -> Settings:
    return Settings()
