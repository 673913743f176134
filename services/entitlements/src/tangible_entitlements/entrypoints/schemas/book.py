"""The tenant's book: a license with its evidence, as listed and as a CSV line."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tangible_entitlements.entrypoints.schemas.lifecycle import UpgradeSuggestionRead
from tangible_entitlements.service_layer.reads import BookRow


class LimitUsage(BaseModel):
    """A limited feature's usage in its current period."""

    feature_key: str
    usage: float
    limit: float
    used_percent: float = Field(description="Usage as a share of the limit, in %; above 100 when over.")
    period_start: datetime
    period_end: datetime | None


class RiskEvidence(BaseModel):
    feature_key: str
    usage: float = Field(description="Usage in the last complete period.")
    previous_usage: float | None = Field(default=None, description="Usage in the period before it.")
    period_start: datetime | None = None
    period_end: datetime | None = None
    previous_period_start: datetime | None = None
    detail: str | None = Field(default=None, examples=["fell 45 % from 100 to 55"])


class RenewalRisk(BaseModel):
    """The renewal risk detected for the license's current term (as `renewal_risk_detected`)."""

    detected_at: datetime
    renewal_date: date
    decline_percent: float
    period: Literal["week", "month"] | None = None
    evidence: list[RiskEvidence]


class BookEntry(BaseModel):
    license_id: str
    account_id: str
    plan_key: str
    status: str
    term_start: date
    term_end: date  # the renewal date
    seats: int
    seats_assigned: int
    idle_seats_percent: float | None  # null for a license without seats
    limit_used_percent: float | None = Field(
        description="The highest share of a limit used in the current periods, in %; null without limits."
    )
    limits: list[LimitUsage] = Field(description="Each limited feature's usage now, fullest first.")
    renewal_risk: RenewalRisk | None = Field(description="At risk: the decline and its evidence; else null.")
    upgrade_suggestions: list[UpgradeSuggestionRead] = Field(
        description="Open upgrade suggestions with their evidence, newest first (an upgrade candidate)."
    )

    @classmethod
    def of(cls, row: BookRow) -> BookEntry:
        idle = round(100.0 * (row.seats - row.seats_assigned) / row.seats, 1) if row.seats > 0 else None
        return cls(
            license_id=row.license_id,
            account_id=row.account_id,
            plan_key=row.plan_key,
            status=row.status,
            term_start=row.term_start,
            term_end=row.term_end,
            seats=row.seats,
            seats_assigned=row.seats_assigned,
            idle_seats_percent=idle,
            limit_used_percent=row.limit_used_percent,
            limits=[LimitUsage.model_validate(limit) for limit in row.limits],
            renewal_risk=RenewalRisk.model_validate(row.risk) if row.risk is not None else None,
            upgrade_suggestions=[UpgradeSuggestionRead.model_validate(s) for s in row.upgrade_suggestions],
        )


CSV_COLUMNS = [
    *(
        name
        for name in BookEntry.model_fields
        if name not in ("limits", "renewal_risk", "upgrade_suggestions")
    ),
    "risk_decline_percent",
    "upgrade_suggestions",
    "limits",
    "renewal_risk_evidence",
    "upgrade_evidence",
]


def csv_values(entry: BookEntry) -> list[Any]:
    """One CSV line: the flat fields as listed; evidence as compact JSON (one cell each)."""
    plain = entry.model_dump(mode="json", exclude={"limits", "renewal_risk", "upgrade_suggestions"})
    risk = entry.renewal_risk
    suggestions = entry.upgrade_suggestions
    extra = [
        risk.decline_percent if risk else None,
        " ".join(f"{s.suggestion_kind}:{s.suggestion_key}" for s in suggestions),
        _json([limit.model_dump(mode="json") for limit in entry.limits]) if entry.limits else None,
        _json([e.model_dump(mode="json", exclude_none=True) for e in risk.evidence]) if risk else None,
        _json(
            {
                f"{s.suggestion_kind}:{s.suggestion_key}": [
                    e.model_dump(mode="json", exclude_none=True) for e in s.evidence
                ]
                for s in suggestions
            }
        )
        if suggestions
        else None,
    ]
    return ["" if v is None else v for v in [*plain.values(), *extra]]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
