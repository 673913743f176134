"""The independent side: the simulator's tally, kept per month too, turned into `Expected`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chaos.invariants import Expected
from chaos.tenant import FEATURES, MILESTONES, PLANS
from tangible_client.reports import DeliveryReport
from tangible_simulator.tally import Tally

# usage-ingest's documented wire id: UUIDv5 of tenant, source and id under this namespace
WIRE_ID_NAMESPACE = uuid.UUID("6f1d3c1e-7b3a-4f43-9a55-7a2b9f3c0d11")


def wire_id(tenant_id: str, source: str, event_id: str) -> str:
    return str(uuid.uuid5(WIRE_ID_NAMESPACE, f"{tenant_id}\x1f{source}\x1f{event_id}"))


def month_of(timestamp: str) -> str:
    """The calendar month (UTC, the licenses' time zone) an event's own time falls in."""
    return datetime.fromisoformat(timestamp).astimezone(UTC).strftime("%Y-%m")


class ChaosTally(Tally):
    """The simulator's tally plus what the invariants need: per-month quantities and the
    wire ids of accepted events."""

    def __init__(self, tenant_id: str) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.monthly: dict[tuple[str, str, str], float] = defaultdict(float)
        self.wire_ids: set[str] = set()

    def record(self, kind: str, event: dict[str, Any], report: DeliveryReport) -> None:
        before = len(self.accepted_ids)
        super().record(kind, event, report)
        if len(self.accepted_ids) > before:
            key = (event["subject"], event["type"], month_of(event["time"]))
            self.monthly[key] += float(event["data"].get("quantity", 1))
            self.wire_ids.add(wire_id(self.tenant_id, event["source"], event["id"]))


def expected_crossings(monthly: dict[tuple[str, str, str], float], plan_of: dict[str, str]) -> dict[str, int]:
    """Per account: each percent of each feature's monthly limit that its usage reached."""
    by_type = {f["meter"]["event_type"]: key for key, f in FEATURES.items()}
    crossings: dict[str, int] = defaultdict(int)
    for (account, usage_type, _month), quantity in monthly.items():
        if account not in plan_of or usage_type not in by_type:
            continue
        limit = PLANS[plan_of[account]][by_type[usage_type]]
        reached = sum(1 for pct in (50, 80, 100) if quantity >= limit * pct / 100)
        if reached:
            crossings[account] += reached
    return dict(crossings)


def expected_rewards(usage: dict[str, dict[str, float]]) -> dict[tuple[str, str], Decimal]:
    """Lifetime usage thresholds: reached once the accepted quantity meets the target."""
    reached: dict[tuple[str, str], Decimal] = {}
    for account, types in usage.items():
        for rule in MILESTONES:
            params = rule["params"]
            if types.get(params["usage_type"], 0.0) >= params["target"] - 1e-9:
                reached[(account, rule["key"])] = Decimal(rule["reward"]["credits"])
    return reached


def build_expected(
    tally: ChaosTally,
    *,
    plan_of: dict[str, str],
    unknown: dict[str, tuple[str, float]],
) -> Expected:
    """`unknown`: wire id → (account, quantity) of events for accounts with no license, which
    entitlements parks (until a license comes) and rewards counts."""
    licensed = {a: dict(t) for a, t in tally.usage.items() if a in plan_of}
    rewards_usage: dict[str, dict[str, float]] = {a: dict(t) for a, t in tally.usage.items()}
    for account, quantity in unknown.values():
        rewards_usage.setdefault(account, {})
        rewards_usage[account]["report.generated"] = (
            rewards_usage[account].get("report.generated", 0.0) + quantity
        )
    return Expected(
        usage=licensed,
        event_ids=set(tally.wire_ids),
        dead_letters={},
        parked=set(unknown),
        rewards=expected_rewards(rewards_usage),
        crossings=expected_crossings(tally.monthly, plan_of),
        sends_failed=tally.outcomes.get("failed", 0),
    )
