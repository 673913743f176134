"""What the demo reports, read back from the services' own APIs (not from the simulator)."""

from __future__ import annotations

import asyncio
import importlib.util
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tangible_demo.engagement import (
    CSM_HOOK,
    PRODUCT_HOOK,
    RENEWAL_AT_RISK,
    RENEWAL_DUE,
    THRESHOLD_CROSSED,
    UPGRADE_SUGGESTED,
)
from tangible_demo.receiver import Received, WebhookReceiver
from tangible_demo.settle import metric_by_label

# what entitlements emits once its lifecycle features (trials, renewal cadence, signals) exist
LIFECYCLE_EVENTS = {
    RENEWAL_DUE: "RenewalDue",
    UPGRADE_SUGGESTED: "UpgradeSuggested",
    RENEWAL_AT_RISK: "RenewalAtRisk",
}


@dataclass(frozen=True)
class NearLimit:
    account_id: str
    plan: str
    feature: str
    usage: float
    limit: float
    limit_type: str
    has_access: bool

    @property
    def percent(self) -> float:
        return 100 * self.usage / self.limit


@dataclass
class AccountFacts:
    account_id: str
    plan: str
    entitlements: list[dict[str, Any]]
    usage: dict[str, Any]
    rewards: list[dict[str, Any]]
    balance: Decimal
    grants: list[dict[str, Any]]
    inbox: list[dict[str, Any]]
    inbox_total: int


@dataclass
class Summary:
    tenant: str
    accounts: list[AccountFacts]
    ingest: dict[str, float]  # outcome → events, usage-ingest's own count for the tenant
    deliveries: Counter[str]  # webhook deliveries by status, from notifications' delivery log
    webhooks: WebhookReceiver
    emitted: set[str]  # lifecycle event types this build of entitlements emits
    preview: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def near_limits(self, at_least: float = 80) -> list[NearLimit]:
        found = []
        for facts in self.accounts:
            for e in facts.entitlements:
                if e["kind"] in ("metered", "seats") and e["limit"]:
                    near = NearLimit(
                        facts.account_id,
                        facts.plan,
                        e["feature_key"],
                        e["usage"],
                        e["limit"],
                        e["limit_type"],
                        e["has_access"],
                    )
                    if near.percent >= at_least:
                        found.append(near)
        return sorted(found, key=lambda n: -n.percent)

    def rewards_by_rule(self) -> Counter[str]:
        return Counter(r["name"] for facts in self.accounts for r in facts.rewards)

    def credits_granted(self) -> Decimal:
        return sum(
            (Decimal(str(r["credits"])) for f in self.accounts for r in f.rewards if r["credits"]), Decimal(0)
        )

    def impact_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for facts in self.accounts:
            for item in facts.usage.get("impact", []):
                totals[item["metric"]] += item["value"]
        return totals

    def feature_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for facts in self.accounts:
            for feature in facts.usage.get("features", []):
                totals[feature["feature_key"]] += feature["total"]
        return totals

    def inbox_items(self, category: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        return [
            (f.account_id, item)
            for f in self.accounts
            for item in f.inbox
            if category in (None, item["category"])
        ]

    def signals(self) -> list[Received]:
        return self.webhooks.on(CSM_HOOK)

    def product_webhooks(self, event_type: str | None = None) -> list[Received]:
        return [r for r in self.webhooks.on(PRODUCT_HOOK) if event_type in (None, r.event_type)]

    def limit_notes(self) -> list[Received]:
        return [
            r
            for r in self.product_webhooks(THRESHOLD_CROSSED)
            if "limit" in r.payload["data"].get("title", "")
        ]


def lifecycle_events_emitted() -> set[str]:
    """Lifecycle events whose wire class this checkout's entitlements package uses: the demo
    reads signals wherever they exist, and says which ones this build cannot produce yet."""
    spec = importlib.util.find_spec("tangible_entitlements")
    if spec is None or spec.origin is None:
        return set()
    source = "".join(p.read_text(errors="replace") for p in Path(spec.origin).parent.rglob("*.py"))
    return {event for event, name in LIFECYCLE_EVENTS.items() if name in source}


async def _json(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    response.raise_for_status()
    return response.json()


async def account_facts(
    clients: dict[str, httpx.AsyncClient], account_id: str, plan: str, history_start: date, today: date
) -> AccountFacts:
    entitlements, rewards = clients["entitlements"], clients["rewards"]
    checks, usage, earned, balance, grants, inbox = await asyncio.gather(
        _json(entitlements, f"/v1/accounts/{account_id}/entitlements"),
        _json(
            entitlements,
            f"/v1/accounts/{account_id}/usage",
            **{"from": history_start.isoformat(), "to": today.isoformat(), "granularity": "month"},
        ),
        _json(rewards, f"/v1/accounts/{account_id}/rewards", limit=500),
        _json(rewards, f"/v1/accounts/{account_id}/balance"),
        _json(entitlements, f"/v1/accounts/{account_id}/grants", limit=200),
        _json(clients["notifications"], f"/v1/accounts/{account_id}/inbox", limit=500),
    )
    return AccountFacts(
        account_id,
        plan,
        checks["entitlements"],
        usage,
        earned["rewards"],
        Decimal(str(balance["total"])),
        grants["items"],
        inbox["items"],
        len(inbox["items"]),
    )


async def webhook_deliveries(notifications_admin: httpx.AsyncClient) -> Counter[str]:
    counts: Counter[str] = Counter()
    for status in ("succeeded", "pending", "failed"):
        offset = 0
        while True:
            page = await _json(
                notifications_admin,
                "/v1/deliveries",
                status=status,
                channel="webhook",
                limit=500,
                offset=offset,
            )
            counts[status] += len(page["items"])
            if len(page["items"]) < 500:
                break
            offset += 500
    return counts


async def ingest_counts(ingest: httpx.AsyncClient, tenant: str) -> dict[str, float]:
    return {
        k.removeprefix("outcome="): v
        for k, v in (await metric_by_label(ingest, "ingest_events_total", tenant=tenant)).items()
    }


async def renewal_preview(notifications_admin: httpx.AsyncClient) -> dict[str, Any]:
    """The tenant's renewal reminder rendered by notifications against a sample event."""
    response = await notifications_admin.post(
        "/v1/templates/preview", json={"event_type": RENEWAL_DUE, "channel": "inbox"}
    )
    response.raise_for_status()
    return dict(response.json())
