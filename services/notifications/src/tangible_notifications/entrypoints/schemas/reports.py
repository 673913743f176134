"""Impact report DTOs: the report as JSON, report templates, share links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tangible_notifications.domain.periods import PERIOD_PATTERN
from tangible_notifications.domain.report_template import STRINGS
from tangible_notifications.entrypoints.schemas.common import Strict

Locale = Literal["en", "de"]
SectionKey = Literal[
    "summary", "usage", "value", "seats", "milestones", "rewards", "credits", "peers", "unused"
]
WordingKey = Literal[tuple(STRINGS["en"])]  # type: ignore[valid-type]
COLOR = r"^#[0-9A-Fa-f]{6}$"
LOGO = r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$"
Period = Field(
    default=None,
    pattern=PERIOD_PATTERN,
    description="YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD; default: the last complete quarter.",
    examples=["2026-Q3"],
)


class FeatureLineRead(BaseModel):
    feature_key: str
    name: str
    outcome: str
    total: float
    previous: float | None = Field(description="The period before, same length.")
    year_earlier: float | None = Field(description="The same period a year earlier; null without data.")
    change_percent: float | None
    change_year_percent: float | None
    metric: str | None
    value: float | None = Field(description="Impact this period, in `metric` (benefit mapping).")
    percentile: float | None = Field(description="Null when the plan's cohort is under k.")
    series: list[tuple[date, float]]


class ValueLineRead(BaseModel):
    metric: str
    value: float
    previous: float | None
    change_percent: float | None


class SeatsRead(BaseModel):
    purchased: int
    assigned: int
    active: int


class MilestoneRead(BaseModel):
    name: str
    summary: str
    percent: float
    reached: bool


class RewardEarnedRead(BaseModel):
    name: str
    credits: Decimal | None
    granted_at: datetime


class ExpiringRead(BaseModel):
    amount: Decimal
    expires_at: datetime


class PeerRead(BaseModel):
    feature: str
    plan_key: str
    plan_name: str | None = Field(default=None, description="The plan's name where entitlements gives it.")
    percentile: float
    sentence: str = Field(examples=["More active than 80 % of teams on Growth (Reports)."])


class ImpactReportRead(BaseModel):
    account_id: str
    period: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    locale: Locale
    generated_at: datetime
    headline: list[str]
    features: list[FeatureLineRead]
    value: list[ValueLineRead]
    value_history: list[tuple[date, float]]
    seats: SeatsRead | None
    milestones: list[MilestoneRead]
    rewards: list[RewardEarnedRead]
    credits_granted: Decimal = Field(description="Credit granted in the period (ledger grants).")
    balance: Decimal | None
    expiring: list[ExpiringRead]
    peer: PeerRead | None
    unused: list[str] = Field(description="Licensed metered features not used in the period.")
    missing: list[str] = Field(description="Sources that did not answer (their sections are empty).")


class ReportTemplateIO(Strict):
    logo: str | None = Field(
        default=None, max_length=400_000, pattern=LOGO, description="A PNG or JPEG data URL."
    )
    primary_color: str = Field(default="#1F4E79", pattern=COLOR)
    accent_color: str = Field(default="#2E86AB", pattern=COLOR)
    sections: list[SectionKey] = Field(
        default=list(SectionKey.__args__),  # type: ignore[attr-defined]
        min_length=1,
        max_length=9,
        description="Which sections, in this order; each at most once.",
        json_schema_extra={"uniqueItems": True},  # stated for clients; checked by the route (422)
    )
    wording: dict[Locale, dict[WordingKey, Annotated[str, Field(max_length=1000)]]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="locale → string key → text ({placeholders} as in the defaults).",
        examples=[{"en": {"title": "Your quarter with Acme", "unused": "Still waiting for you"}}],
    )
    default_locale: Locale = "en"


class ReportPreviewRequest(Strict):
    template: ReportTemplateIO | None = Field(default=None, description="Unsaved; default: the stored one.")
    locale: Locale = "en"
    format: Literal["html", "pdf"] = "html"


class ShareLinkCreate(Strict):
    period: str | None = Period
    locale: Locale | None = None
    ttl_hours: int = Field(default=168, ge=1, le=2160, description="Up to 90 days.")


class ShareLinkRead(BaseModel):
    id: str
    account_id: str
    period: str
    locale: Locale
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: Literal["active", "expired", "revoked"]
    url: str = Field(description="Read-only, no login: the HTML report (add ?format=pdf|csv|json).")
