"""The tunables handlers apply (built from settings by the composition root)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from tangible_rewards.domain.evaluation import ZoneOf
from tangible_rewards.domain.periods import zone
from tangible_rewards.service_layer.ports import UnitOfWork


@dataclass(frozen=True)
class Policy:
    default_time_zone: str = "UTC"
    late_window: timedelta = timedelta(hours=48)
    """Events count toward a period that closed at most this long ago."""
    expiry_lead: timedelta = timedelta(days=7)
    """How long before credits expire the expiring-soon event goes out (once per bucket)."""
    scheduler_batch: int = 500
    idempotency_retention: timedelta = timedelta(days=7)


async def zones_for(uow: UnitOfWork, accounts: Iterable[tuple[str, str]], policy: Policy) -> ZoneOf:
    """Each account's time zone (its own, else the default), loaded in one query."""
    known = await uow.profiles.time_zones(accounts)
    default = zone(policy.default_time_zone)

    def zone_of(tenant_id: str, account_id: str) -> ZoneInfo:
        name = known.get((tenant_id, account_id))
        return zone(name) if name else default

    return zone_of
