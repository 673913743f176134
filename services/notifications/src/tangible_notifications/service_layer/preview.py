"""Template previews: render against a sample event of the type (or data the admin gives)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tangible_notifications.domain.defaults import DIGEST, QUARTERLY_SUMMARY, local_dates
from tangible_notifications.domain.impact import (
    FeatureUsage,
    ImpactFacts,
    RewardsSummary,
    UsageReport,
    impact_context,
)
from tangible_notifications.domain.model import SourceEvent, Template
from tangible_notifications.domain.rendering import context_for, render_strict
from tangible_schemas import EVENT_TYPES

SAMPLE_FACTS = ImpactFacts(
    period="this term",
    usage=UsageReport(
        features=(FeatureUsage("reports", "Reports", 1240),),
        metrics=(("hours saved", 310),),
        benefits=("Reports", "Priority support"),
    ),
    rewards=RewardsSummary(2, ("First report", "Champion"), Decimal("150")),
)

_SYNTHETIC: dict[str, dict[str, Any]] = {
    QUARTERLY_SUMMARY: {"quarter": "2026-Q3", "from": "2026-07-01", "to": "2026-09-30"},
    DIGEST: {
        "period": "daily",
        "items": [{"title": "You have used 80 % of your reports allowance", "body": ""}],
    },
}


# Thirty days before every sample date (2026-12-31), as a 30-day lead time would announce.
SAMPLE_MOMENT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _sample(schema: dict[str, Any], defs: dict[str, Any], name: str) -> Any:
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _sample(options[0], defs, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: _sample(value, defs, key) for key, value in properties.items()}
    if kind == "array":
        return [_sample(schema.get("items", {}), defs, name)]
    if kind == "integer":
        return 80 if "percent" in name else 30 if "days" in name else 3
    if kind == "number":
        return 42.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return date(2026, 12, 31).isoformat()
    if schema.get("format") == "date-time":
        return datetime(2026, 12, 31, 9, tzinfo=UTC).isoformat()
    return {"tenant_id": "demo", "account_id": "acct-1", "feature_key": "reports"}.get(name, f"sample-{name}")


def sample_data(event_type: str) -> dict[str, Any]:
    if event_type in _SYNTHETIC:
        return dict(_SYNTHETIC[event_type])
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        return {}
    schema = cls.model_json_schema()
    data = _sample(schema, schema.get("$defs", {}), "data")
    return data if isinstance(data, dict) else {}


def preview(
    template: Template, event_type: str, *, data: dict[str, Any] | None, account_id: str, now: datetime
) -> tuple[str, str, str, dict[str, Any]]:
    """(title, body, html, the data used); raises InvalidTemplate with the reason.

    Sample data is rendered at the sample's own moment (its dates are fixed, so `days_left`
    reads 30 as `lead_days` does); data the admin gives, at `now` (the service clock)."""
    used = data if data is not None else sample_data(event_type)
    moment = now if data is not None else SAMPLE_MOMENT
    event = SourceEvent("sample-event", event_type, "preview", account_id, used, moment)
    impact = impact_context(SAMPLE_FACTS) | {"dates": local_dates(used, "en")}  # as composing gives it
    title, body, html = render_strict(template, context_for(event, moment, impact))
    return title, body, html, used
