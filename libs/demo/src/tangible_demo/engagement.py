"""The demo tenant's milestone rules (rewards) and notification setup (notifications)."""

from __future__ import annotations

from typing import Any

from tangible_demo.catalog import INSIGHTS

REPORT = "report.generated"

# one of every rule kind, and every reward kind
MILESTONES: list[dict[str, Any]] = [
    {
        "key": "hundred-reports",
        "name": "Hundred reports",
        "kind": "usage_threshold",
        "params": {"usage_type": REPORT, "target": 100, "unit_label": "reports"},
        "reward": {"kind": "credits", "credits": "50", "credits_expire_days": 180},
    },
    {
        "key": "busy-month",
        "name": "Busy month",
        "kind": "usage_threshold",
        "params": {"usage_type": REPORT, "target": 150, "window": "month", "unit_label": "reports"},
        "reward": {"kind": "credits", "credits": "20", "credits_expire_days": 90},
        "repeat": "per_period",
    },
    {
        "key": "five-day-streak",
        "name": "Five days in a row",
        "kind": "streak",
        "params": {"mode": "consecutive_days", "days": 5},
        "reward": {"kind": "custom", "name": "On a roll", "description": "A badge on your team page"},
    },
    {
        "key": "weekly-habit",
        "name": "Weekly habit",
        "kind": "streak",
        "params": {"mode": "days_in_weeks", "days": 3, "weeks": 4},
        "reward": {"kind": "support_level", "support_level": "priority", "duration_days": 30},
    },
    {
        "key": "org-rollout",
        "name": "Org-wide rollout",
        "kind": "adoption",
        "params": {"percent": 70, "window_days": 30, "min_seats": 3},
        "reward": {"kind": "early_access", "feature_key": INSIGHTS, "duration_days": 30},
    },
    {
        "key": "first-anniversary",
        "name": "One year together",
        "kind": "anniversary",
        "params": {"years": 1},
        "reward": {"kind": "credits", "credits": "100"},
    },
    {
        "key": "quick-start",
        "name": "Quick start",
        "kind": "time_to_value",
        "params": {"usage_type": REPORT, "days": 14, "target": 10, "unit_label": "reports"},
        "reward": {"kind": "credits", "credits": "25", "credits_expire_days": 90},
    },
]

ENTITLEMENTS = "tangible.entitlements.v1."
THRESHOLD_CROSSED = ENTITLEMENTS + "threshold_crossed"
RENEWAL_DUE = ENTITLEMENTS + "renewal_due_announced"
UPGRADE_SUGGESTED = ENTITLEMENTS + "upgrade_suggested"
RENEWAL_AT_RISK = ENTITLEMENTS + "renewal_risk_detected"
REWARD_GRANTED = "tangible.rewards.v1.reward_granted"

PRODUCT_HOOK, CSM_HOOK = "/hooks/product", "/hooks/csm"

RENEWAL_TEMPLATE = {
    "title": "Your renewal is {{ data.lead_days }} days away",
    "body": "Your license renews on {{ data.renewal_date }}.\n\n{{ impact.note }}",
}


def channels(receiver: str) -> list[dict[str, Any]]:
    """A product webhook and the customer-success channel, both on the demo's receiver."""
    return [
        {"kind": "webhook", "name": "Demo product webhook", "url": receiver + PRODUCT_HOOK},
        {"kind": "webhook", "name": "Customer success", "purpose": "csm", "url": receiver + CSM_HOOK},
    ]


RULES: list[dict[str, Any]] = [
    {
        "name": "Usage alerts",
        "event_types": [THRESHOLD_CROSSED],
        "channels": ["inbox"],
        "filters": {"min_threshold_percent": 80},
        "category": "usage",
    },
    {
        # the impact note makes this a personalised message: notifications reads the
        # account's usage report and rewards before sending it
        "name": "Limit reached",
        "event_types": [THRESHOLD_CROSSED],
        "channels": ["webhook"],
        "filters": {"min_threshold_percent": 100},
        "category": "usage",
        "priority": "high",
        "template": {
            "title": "{{ data.feature_key }}: {{ account_id }} reached its plan's limit",
            "body": "{{ data.usage | int }} of {{ data.limit | int }} this month. {{ impact.note }}",
        },
    },
    {
        "name": "Rewards",
        "event_types": [REWARD_GRANTED],
        "channels": ["inbox", "webhook"],
        "category": "rewards",
    },
    {
        "name": "New capabilities",
        "event_types": [ENTITLEMENTS + "grant_applied"],
        "channels": ["inbox"],
        "category": "rewards",
    },
    {
        "name": "Renewal reminders",
        "event_types": [RENEWAL_DUE],
        "channels": ["inbox", "webhook"],
        "category": "renewal",
        "priority": "high",
    },
    {
        "name": "Customer-success signals",
        "event_types": [UPGRADE_SUGGESTED, RENEWAL_AT_RISK],
        "channels": ["csm"],
        "category": "signals",
        "priority": "high",
    },
]
