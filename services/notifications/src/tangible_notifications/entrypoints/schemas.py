"""Request and response DTOs of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateIn(Strict):
    title: str = Field(
        min_length=1, max_length=500, examples=["{{ data.feature_key }} is at {{ data.threshold_percent }} %"]
    )
    body: str = Field(default="", max_length=20_000)


class RuleCreate(Strict):
    name: str = Field(min_length=1, max_length=256)
    event_types: list[str] = Field(
        min_length=1, max_length=50, examples=[["tangible.entitlements.v1.threshold_crossed"]]
    )
    channels: list[Literal["inbox", "webhook", "email"]] = Field(min_length=1, max_length=3)
    template: TemplateIn
    priority: Literal["low", "normal", "high", "critical"] = "normal"


class RuleRead(RuleCreate):
    id: str
    enabled: bool


class InboxItemRead(BaseModel):
    id: str
    title: str
    body: str
    read: bool
    created_at: datetime


class InboxPage(BaseModel):
    account_id: str
    items: list[InboxItemRead]
    limit: int
    offset: int
