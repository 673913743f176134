"""Request and response DTOs of the notifications API."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from tangible_runtime.numbers import INTEGRAL

EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
RuleChannel = Literal["inbox", "webhook", "email", "csm"]
Mode = Literal["immediate", "off", "daily", "weekly"]


def _time_text(value: Any) -> Any:
    if not isinstance(value, str | time):  # pydantic would read a number as seconds
        raise ValueError("a local time is written HH:MM or HH:MM:SS")
    return value


def _email_address(value: str) -> str:
    try:
        validate_email(
            value,
            check_deliverability=False,  # no DNS on a request path
            globally_deliverable=False,  # intranet domains (`ops@intranet`) are addresses too
            test_environment=True,  # and so are `.test` ones, as RFC 6761 reserves them for tests
            allow_smtputf8=False,  # JSON Schema's `email` is ASCII (`idn-email` is the other one)
            allow_quoted_local=True,  # RFC 5321 mailboxes, as the format defines them
            allow_domain_literal=True,
        )
    except EmailNotValidError as error:
        raise ValueError(f"not an email address: {error}") from error
    return value


EmailAddress = Annotated[
    str, AfterValidator(_email_address), WithJsonSchema({"type": "string", "format": "email"})
]
"""An email address as JSON Schema's `email` format states it (RFC 5321 mailbox, ASCII),
checked with email-validator; kept as written."""

LocalTime = Annotated[
    time,
    BeforeValidator(_time_text),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateIn(Strict):
    title: str = Field(
        min_length=1, max_length=500, examples=["{{ data.feature_key }} is at {{ data.threshold_percent }} %"]
    )
    body: str = Field(default="", max_length=20_000)
    html: str | None = Field(default=None, max_length=100_000, description="Email HTML part (autoescaped).")


class RuleFiltersIn(Strict):
    feature_key: str | None = Field(default=None, max_length=128)
    min_threshold_percent: Annotated[StrictInt, Field(ge=0, le=1000), INTEGRAL] | None = Field(default=None)


class RuleCreate(Strict):
    name: str = Field(min_length=1, max_length=256)
    event_types: list[str] = Field(
        min_length=1, max_length=50, examples=[["tangible.entitlements.v1.threshold_crossed"]]
    )
    channels: list[RuleChannel] = Field(min_length=1, max_length=4)
    template: TemplateIn | None = Field(
        default=None,
        description="Inline template; else the tenant's template for the event type, else a default.",
    )
    priority: Literal["low", "normal", "high", "critical"] = Field(
        default="normal", description="critical notices bypass opt-outs, digests and quiet hours"
    )
    category: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_-]+$")
    filters: RuleFiltersIn = Field(default_factory=RuleFiltersIn)


class RuleUpdate(RuleCreate):
    enabled: StrictBool = True


class RuleRead(RuleCreate):
    id: str
    enabled: bool


class RulePage(BaseModel):
    items: list[RuleRead]
    limit: int
    offset: int


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


class ChannelPage(BaseModel):
    items: list[ChannelRead]
    limit: int
    offset: int


class ChannelPatch(Strict):
    enabled: StrictBool


class SecretRotation(Strict):
    overlap_hours: float = Field(
        default=24, ge=0, le=24 * 30, description="Old secret keeps signing this long."
    )


class SecretRotated(BaseModel):
    secret: str
    previous_valid_until: datetime


class TemplateRead(TemplateIn):
    event_type: str
    channel: str


class TemplatePage(BaseModel):
    items: list[TemplateRead]
    limit: int
    offset: int


class PreviewRequest(Strict):
    event_type: str = Field(max_length=256, examples=["tangible.entitlements.v1.renewal_due_announced"])
    channel: Literal["inbox", "webhook", "email"] = "email"
    template: TemplateIn | None = Field(default=None, description="Else the stored or default template.")
    data: dict[str, Any] | None = Field(default=None, description="Event data; else a sample of the type.")


class PreviewRead(BaseModel):
    title: str
    body: str
    html: str
    data: dict[str, Any]


class TenantSettingsIO(Strict):
    inbox_enabled: StrictBool = True
    quarterly_summary: StrictBool = Field(default=False, description="Opt in to quarterly impact summaries.")
    quarterly_channels: list[RuleChannel] = Field(default_factory=lambda: ["inbox"], min_length=1)  # type: ignore[arg-type]
    digest_hour: Annotated[StrictInt, Field(ge=0, le=23), INTEGRAL] = Field(
        default=8, description="Local hour when digests go out."
    )


class QuietHoursIO(Strict):
    start: LocalTime = Field(examples=["22:00"])
    end: LocalTime = Field(examples=["07:00"])


class PreferenceIO(Strict):
    email: str | None = Field(default=None, pattern=EMAIL)
    timezone: str = Field(default="UTC", examples=["Europe/Paris"])
    quiet_hours: QuietHoursIO | None = None
    channels: dict[Literal["email", "inbox"], dict[str, Mode]] = Field(
        default_factory=dict,
        description="channel → category (or '*') → immediate | off | daily | weekly",
        examples=[{"email": {"usage": "daily", "*": "immediate"}}],
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
    id: str
    title: str
    body: str
    category: str
    priority: str
    user_id: str | None
    read: bool
    created_at: datetime


class InboxPage(BaseModel):
    account_id: str
    items: list[InboxItemRead]
    unread_count: int
    limit: int
    offset: int


class UnreadCount(BaseModel):
    account_id: str
    user_id: str | None
    unread: int


class ReadState(Strict):
    read: bool


class AttemptRead(BaseModel):
    number: int
    attempted_at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(BaseModel):
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


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    limit: int
    offset: int
