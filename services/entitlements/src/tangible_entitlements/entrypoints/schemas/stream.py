"""DTOs of the SDKs' local view: an account's answers now and when they change by themselves."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tangible_entitlements.entrypoints.schemas.checks import EntitlementRead


class SegmentRead(BaseModel):
    start: datetime = Field(description="These answers hold from here until the next segment's start.")
    entitlements: list[EntitlementRead]


class AccountTimeline(BaseModel):
    account_id: str
    position: str = Field(description="The change stream's position when this was read (newer wins).")
    as_of: datetime
    valid_until: datetime = Field(description="Read the account again after this moment.")
    missing: bool = Field(default=False, description="The account has no license (no segments).")
    segments: list[SegmentRead]


class ViewPage(BaseModel):
    position: str = Field(description="Resume the change stream here (Last-Event-ID) to miss nothing.")
    accounts: list[AccountTimeline]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last.")
