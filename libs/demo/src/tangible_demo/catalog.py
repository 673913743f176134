"""The demo tenant's catalog and licenses, as a vendor would set them up in entitlements.

Three plans and an add-on, each feature with its benefit mapping (plain-language outcome,
impact metric and factor). Limits are sized for the demo's usage volume, so that some
accounts run close to them and some past them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tangible_simulator.population import Account

REPORTS, EXPORTS, DASHBOARDS, SEATS, SSO, SUPPORT, INSIGHTS = (
    "reports",
    "exports",
    "dashboards",
    "seats",
    "sso",
    "support",  # the config feature a support-level reward raises (ENTITLEMENTS_SUPPORT_FEATURE_KEY)
    "ai-insights",  # the add-on's feature, and the early access a milestone grants
)
ADDON = "insights"


def _metered(
    key: str, name: str, event_type: str, outcome: str, metric: str, per_unit: float
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "kind": "metered",
        "meter": {"event_type": event_type, "aggregation": "count", "reset_period": "month"},
        "outcome": outcome,
        "impact_metric": metric,
        "impact_per_unit": per_unit,
        "thresholds": [50, 80, 100],
    }


FEATURES: list[dict[str, Any]] = [
    _metered(REPORTS, "Reports", "report.generated", "Board-ready reports in one click", "hours saved", 0.25),
    _metered(
        EXPORTS, "Exports", "export.created", "Data in your tools without a ticket to IT", "hours saved", 0.1
    ),
    _metered(
        DASHBOARDS,
        "Shared dashboards",
        "dashboard.shared",
        "Decisions shared as a link instead of a meeting",
        "meetings avoided",
        0.2,
    ),
    {"key": SEATS, "name": "Seats", "kind": "seats", "outcome": "Everyone who needs it has access"},
    {"key": SSO, "name": "Single sign-on", "kind": "boolean", "outcome": "One login, managed by your IT"},
    {"key": SUPPORT, "name": "Support", "kind": "config", "outcome": "Help when you need it"},
    {
        "key": INSIGHTS,
        "name": "AI insights",
        "kind": "boolean",
        "outcome": "Anomalies found before they cost you",
    },
]


def _plan(
    key: str, name: str, price: float, reports: float, exports: float, hard: bool, **extra: Any
) -> dict[str, Any]:
    features: dict[str, Any] = {
        REPORTS: {"limit": reports, "hard": hard},
        EXPORTS: {"limit": exports, "hard": hard},
        SEATS: {},
        SUPPORT: {"config": extra.pop("support")},
        **extra,
    }
    return {"key": key, "name": name, "price": price, "features": features}


# monthly limits, sized for the demo's volume (`--volume 0.15`): the busiest accounts of each
# plan pass them by the end of a month; the population's plans have these keys
PLANS: list[dict[str, Any]] = [
    _plan("starter", "Starter", 49, 40, 12, True, support="community"),
    _plan(
        "growth",
        "Growth",
        199,
        250,
        80,
        False,
        support="standard",
        **{SSO: {}, DASHBOARDS: {"limit": 40, "hard": False}},
    ),
    _plan(
        "enterprise",
        "Enterprise",
        990,
        1800,
        500,
        False,
        support="priority",
        **{SSO: {}, DASHBOARDS: {"limit": 300, "hard": False}, INSIGHTS: {}},
    ),
]
ADDONS: list[dict[str, Any]] = [
    {
        "key": ADDON,
        "name": "Insights",
        "price": 99,
        "features": {INSIGHTS: {}, DASHBOARDS: {"limit": 100, "hard": False}},
    }
]


@dataclass(frozen=True)
class LicenseSpec:
    account_id: str
    plan_key: str
    term_start: date
    term_end: date
    seats: int
    timezone: str
    users: list[str] = field(default_factory=list)
    addons: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "plan_key": self.plan_key,
            "term_start": self.term_start.isoformat(),
            "term_end": self.term_end.isoformat(),
            "seats": self.seats,
            "addons": self.addons,
            "timezone": self.timezone,
            "reason": "demo",
        }


def license_specs(
    accounts: list[Account], *, today: date, history_start: date, seed: int
) -> list[LicenseSpec]:
    """One license per simulated account, on the account's plan.

    About a third are new customers whose term began when the replayed history begins (time
    to value); the others are established customers on a two-year term (past their first
    anniversary), nearly half of them renewing within 90 days. Some buy exactly the seats
    they use (all assigned), the others a few spare.
    """
    rng = random.Random(seed)
    specs = []
    for account in accounts:
        users = [u.id for u in account.users]
        spare = 0 if rng.random() < 0.3 else rng.randint(1, max(1, len(users) // 4))
        if rng.random() < 0.3:
            start = history_start - timedelta(days=1)
            end = start + timedelta(days=365)
        else:
            soon = rng.random() < 0.45
            end = today + timedelta(days=rng.randint(10, 85) if soon else rng.randint(120, 330))
            start = end - timedelta(days=730)
        addons = [ADDON] if account.plan.key == "growth" and rng.random() < 0.4 else []
        specs.append(
            LicenseSpec(
                account.id, account.plan.key, start, end, len(users) + spare, account.timezone, users, addons
            )
        )
    return specs
