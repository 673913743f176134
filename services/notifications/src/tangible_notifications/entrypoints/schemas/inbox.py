"""The in-app inbox and preferences per account and user."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tangible_notifications.entrypoints.schemas.common import EMAIL, LocalTime, Mode, Strict, UncountedPage


class QuietHoursIO(Strict):
    model_config = ConfigDict(from_attributes=True)

    start: LocalTime = Field(examples=["22:00"])
    end: LocalTime = Field(examples=["07:00"])


class PreferenceIO(Strict):
    model_config = ConfigDict(from_attributes=True)

    email: str | None = Field(default=None, pattern=EMAIL)
    timezone: str = Field(default="UTC", examples=["Europe/Paris"])
    quiet_hours: QuietHoursIO | None = None
    channels: dict[Literal["email", "inbox"], dict[str, Mode]] = Field(
        default_factory=dict,
        description="channel → category (or '*') → immediate | off | daily | weekly",
        examples=[{"email": {"usage": "daily", "*": "immediate"}}],
    )
    locale: Literal["en", "de"] | None = Field(
        default=None, description="Language of impact reports and their messages; null: the tenant's default."
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone '{value}'") from error
        return value


class InboxItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    body: str
    category: str
    priority: str
    user_id: str | None
    read: bool
    created_at: datetime


class InboxPage(UncountedPage[InboxItemRead]):
    account_id: str
    unread_count: int


class UnreadCount(BaseModel):
    account_id: str
    user_id: str | None
    unread: int


class ReadState(Strict):
    read: bool
