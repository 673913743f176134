"""The chaos tenant: a catalog with metered features and monthly limits, lifetime milestone
rules, notification rules with a webhook channel, and one license per simulated account."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tangible_devstack.scenario import bearer, term_around
from tangible_simulator.population import Account

FEATURES: dict[str, dict[str, Any]] = {
    key: {
        "key": key,
        "name": key.title(),
        "kind": "metered",
        "meter": {"event_type": event_type, "aggregation": "count", "reset_period": "month"},
        "outcome": f"{key} without waiting",
        "impact_metric": "hours saved",
        "impact_per_unit": 0.25,
    }
    for key, event_type in (
        ("reports", "report.generated"),
        ("exports", "export.created"),
        ("dashboards", "dashboard.shared"),
    )
}

# monthly limits (soft: usage keeps counting past them), sized so that a run of a few
# simulated days crosses 50 / 80 / 100 % for a good share of the accounts
PLANS: dict[str, dict[str, float]] = {
    "starter": {"reports": 30, "exports": 10, "dashboards": 5},
    "growth": {"reports": 250, "exports": 80, "dashboards": 40},
    "enterprise": {"reports": 1500, "exports": 450, "dashboards": 220},
}

MILESTONES: list[dict[str, Any]] = [
    {
        "key": key,
        "name": key.replace("-", " ").title(),
        "kind": "usage_threshold",
        "params": {"usage_type": usage_type, "target": target, "window": "lifetime"},
        "reward": {"kind": "credits", "credits": credits},
    }
    for key, usage_type, target, credits in (
        ("reports-100", "report.generated", 100, "10"),
        ("reports-1000", "report.generated", 1000, "50"),
        ("exports-50", "export.created", 50, "5"),
    )
]

# notification rule key → its channels (the invariants expect one notification per channel)
RULE_CHANNELS: dict[str, list[str]] = {"thresholds": ["webhook", "inbox"], "rewards": ["webhook"]}
RULES: dict[str, dict[str, Any]] = {
    "thresholds": {
        "name": "thresholds",
        "event_types": ["tangible.entitlements.v1.threshold_crossed"],
        "channels": RULE_CHANNELS["thresholds"],
        "template": {"title": "{{ data.feature_key }} at {{ data.threshold_percent }} %", "body": "."},
    },
    "rewards": {
        "name": "rewards",
        "event_types": ["tangible.rewards.v1.reward_granted"],
        "channels": RULE_CHANNELS["rewards"],
        "template": {"title": "You earned a reward", "body": "."},
    },
}


@dataclass
class Provisioned:
    plan_of: dict[str, str]  # account → plan key
    rule_keys: dict[str, str]  # notification rule id → rule key
    webhook_secret: str


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=bearer(token))
    if response.status_code not in (200, 201):
        raise RuntimeError(f"provisioning {path}: {response.status_code} {response.text[:500]}")
    return dict(response.json())


async def provision(
    *,
    entitlements: str,
    rewards: str,
    notifications: str,
    admin_token: str,
    accounts: list[Account],
    webhook_url: str,
) -> Provisioned:
    async with (
        httpx.AsyncClient(base_url=entitlements, timeout=30) as ent,
        httpx.AsyncClient(base_url=rewards, timeout=30) as rew,
        httpx.AsyncClient(base_url=notifications, timeout=30) as notes,
    ):
        for feature in FEATURES.values():
            await _post(ent, "/v1/features", feature, admin_token)
        for plan, limits in PLANS.items():
            features = {k: {"limit": v, "hard": False} for k, v in limits.items()}
            await _post(
                ent, "/v1/plans", {"key": plan, "name": plan.title(), "features": features}, admin_token
            )
            await _post(ent, f"/v1/plans/{plan}/versions/1/publish", {}, admin_token)
        plan_of = {account.id: account.plan.key for account in accounts}
        semaphore = asyncio.Semaphore(8)
        term_start, term_end = term_around(datetime.now(UTC))

        async def license_for(account: Account) -> None:
            body = {
                "account_id": account.id,
                "plan_key": account.plan.key,
                "term_start": term_start,
                "term_end": term_end,
                "seats": len(account.users),
            }
            async with semaphore:
                await _post(ent, "/v1/licenses", body, admin_token)

        await asyncio.gather(*(license_for(a) for a in accounts))
        for rule in MILESTONES:
            await _post(rew, "/v1/milestones", rule, admin_token)
        channel = await _post(
            notes,
            "/v1/channels",
            {"kind": "webhook", "name": "chaos receiver", "url": webhook_url},
            admin_token,
        )
        rule_keys = {}
        for key, rule in RULES.items():
            created = await _post(notes, "/v1/rules", rule, admin_token)
            rule_keys[str(created["id"])] = key
    return Provisioned(plan_of, rule_keys, str(channel["secret"]))
