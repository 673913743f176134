"""notifications settings: `NOTIFICATIONS_*` environment variables on top of the shared ones."""

from __future__ import annotations

from functools import lru_cache
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from tangible_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/notifications"
    port: int = 8004

    # personalisation: the other services' public HTTP APIs, read with short-lived tokens
    entitlements_url: str = "http://127.0.0.1:8002"
    rewards_url: str = "http://127.0.0.1:8003"
    http_timeout_seconds: float = 3.0
    http_attempts: int = 3
    report_sources_seconds: float = Field(
        default=5.0,
        gt=0,
        description="An impact report waits this long for its sources; the rest are missing.",
    )
    report_source_cooldown_seconds: float = Field(
        default=15.0, ge=0, description="A peer a report could not reach is not asked again for this long."
    )

    # webhooks
    secrets_key: SecretStr | None = Field(
        default=None, description="Fernet key(s), comma-separated (first encrypts): webhook secrets at rest."
    )
    allow_private_targets: bool = Field(
        default=False, description="Local development only: allow loopback and private webhook targets."
    )
    webhook_timeout_seconds: float = 10.0
    retry_window_hours: float = 24.0
    # the backoff's first delay and ceiling (test rigs and chaos runs shorten them)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_cap_seconds: float = Field(default=5 * 3600.0, gt=0)
    disable_after_failing_days: float = 5.0
    rotation_overlap_hours: float = 24.0

    # impact reports: the base URL readers reach this service at (share links in messages),
    # and the key share links are signed with (default: derived from SECRETS_KEY)
    public_url: str = "http://127.0.0.1:8004"
    report_link_key: SecretStr | None = None

    # email
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Tangible <notifications@tangible.localhost>"
    smtp_timeout_seconds: float = 10.0

    # delivery worker and schedules
    delivery_batch_size: int = 50
    delivery_poll_seconds: float = 0.5
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="Live streams: a comment this often, and a credential check."
    )
    delivery_lease_seconds: float = 120.0
    compose_batch_size: int = 20
    past_signal_hours: float = Field(
        default=48.0,
        gt=0,
        description="Signals about what happened longer ago (imported history) notify nobody.",
    )
    scheduler_interval_seconds: float = 30.0

    @model_validator(mode="after")
    def _a_round_fits_its_lease(self) -> Self:
        """A delivery round sends (up to the longest channel timeout), then records; a round
        stopped, or a lease lapsed, between an acknowledged send and its record makes another
        replica send it again. So a SIGTERM waits out a send with 5 s to record it, and a lease
        covers a send and the record's retries (half the lease) with 5 s to spare."""
        longest_send = max(self.webhook_timeout_seconds, self.smtp_timeout_seconds)
        if self.shutdown_grace_seconds < longest_send + 5:
            raise ValueError(
                f"NOTIFICATIONS_SHUTDOWN_GRACE_SECONDS={self.shutdown_grace_seconds:g} must be at least "
                f"the longest send timeout ({longest_send:g} s) + 5: a delivery round stopped between "
                "a send and its record sends it again"
            )
        if self.delivery_lease_seconds < 2 * (longest_send + 5):
            raise ValueError(
                f"NOTIFICATIONS_DELIVERY_LEASE_SECONDS={self.delivery_lease_seconds:g} must be at least "
                f"2 × (the longest send timeout ({longest_send:g} s) + 5) = {2 * (longest_send + 5):g}: "
                "a lease that lapses before its round is recorded lets another replica send again"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
