"""Channels (webhook endpoints, email), secret rotation, the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from tangible_notifications.entrypoints.schemas.common import EmailAddress, Strict


class ChannelCreate(Strict):
    kind: Literal["webhook", "email"]
    name: str = Field(min_length=1, max_length=256)
    purpose: Literal["standard", "csm"] = Field(
        default="standard", description="csm: the customer-success channel for at-risk and upgrade signals"
    )
    url: str | None = Field(default=None, max_length=2048, examples=["https://hooks.example.com/tangible"])
    secret: str | None = Field(
        default=None, pattern=r"^whsec_[A-Za-z0-9+/=]{32,}$", description="Else generated."
    )
    sender: str | None = Field(default=None, max_length=320, examples=["Acme <success@acme.example>"])
    recipients: list[EmailAddress] = Field(default_factory=list, max_length=100)
    to_account_contacts: StrictBool = Field(
        default=False, description="Also email the account's contacts (from their preferences)."
    )


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    name: str
    purpose: str
    url: str | None
    sender: str | None
    recipients: list[str]
    to_account_contacts: bool
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None


class ChannelCreated(ChannelRead):
    secret: str | None = Field(description="The webhook signing secret; shown only now.")


class ChannelPatch(Strict):
    enabled: StrictBool


class SecretRotation(Strict):
    overlap_hours: float = Field(
        default=24, ge=0, le=24 * 30, description="Old secret keeps signing this long."
    )


class SecretRotated(BaseModel):
    secret: str
    previous_valid_until: datetime


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    notification_id: str
    account_id: str
    channel: str
    channel_id: str | None
    target: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    last_status_code: int | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptRead]
