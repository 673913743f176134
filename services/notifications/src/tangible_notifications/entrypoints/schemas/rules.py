"""Rules, templates and previews, tenant settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from tangible_notifications.entrypoints.schemas.common import RuleChannel, Strict
from tangible_runtime.numbers import INTEGRAL


class TemplateIn(Strict):
    model_config = ConfigDict(from_attributes=True)

    title: str = Field(
        min_length=1, max_length=500, examples=["{{ data.feature_key }} is at {{ data.threshold_percent }} %"]
    )
    body: str = Field(default="", max_length=20_000)
    html: str | None = Field(default=None, max_length=100_000, description="Email HTML part (autoescaped).")


class RuleFiltersIn(Strict):
    model_config = ConfigDict(from_attributes=True)

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
    model_config = ConfigDict(from_attributes=True)

    id: str
    enabled: bool


class TemplateRead(TemplateIn):
    model_config = ConfigDict(from_attributes=True)

    event_type: str
    channel: str


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
    model_config = ConfigDict(from_attributes=True)

    inbox_enabled: StrictBool = True
    quarterly_summary: StrictBool = Field(default=False, description="Opt in to quarterly impact summaries.")
    quarterly_channels: list[RuleChannel] = Field(default_factory=lambda: ["inbox"], min_length=1)  # type: ignore[arg-type]
    digest_hour: Annotated[StrictInt, Field(ge=0, le=23), INTEGRAL] = Field(
        default=8, description="Local hour when digests go out."
    )
