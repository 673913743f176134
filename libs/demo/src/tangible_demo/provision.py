"""Provision the demo tenant through the public APIs, as a vendor's admin would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from tangible_demo.catalog import ADDONS, FEATURES, PLANS, LicenseSpec
from tangible_demo.engagement import (
    CSM_HOOK,
    MILESTONES,
    PRODUCT_HOOK,
    RENEWAL_DUE,
    RENEWAL_TEMPLATE,
    RULES,
    channels,
)
from tangible_demo.receiver import WebhookReceiver

CONCURRENCY = 8


@dataclass
class Admin:
    """Admin-scoped clients of the three configurable services."""

    entitlements: httpx.AsyncClient
    rewards: httpx.AsyncClient
    notifications: httpx.AsyncClient


class ProvisioningError(RuntimeError):
    pass


async def call(client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body)
    if response.status_code >= 300:
        raise ProvisioningError(f"{method} {client.base_url}{path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


async def _bounded(jobs: Iterable[Awaitable[Any]]) -> list[Any]:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(job: Awaitable[Any]) -> Any:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def catalog(admin: Admin) -> None:
    """Features with their benefit mapping; three plans and an add-on, published."""
    for feature in FEATURES:
        await call(admin.entitlements, "POST", "/v1/features", feature)
    for kind, items in (("plans", PLANS), ("addons", ADDONS)):
        for item in items:
            await call(admin.entitlements, "POST", f"/v1/{kind}", item)
            await call(admin.entitlements, "POST", f"/v1/{kind}/{item['key']}/versions/1/publish", {})


async def licenses(admin: Admin, specs: list[LicenseSpec]) -> dict[str, str]:
    """A license per account, its seat holders, and its time zone in rewards; → license ids."""
    created = await _bounded(call(admin.entitlements, "POST", "/v1/licenses", s.body()) for s in specs)
    ids = {spec.account_id: license["id"] for spec, license in zip(specs, created, strict=True)}
    seats = [
        call(admin.entitlements, "POST", f"/v1/licenses/{ids[s.account_id]}/seats", {"user_id": user})
        for s in specs
        for user in s.users
    ]
    zones = [
        call(admin.rewards, "PUT", f"/v1/accounts/{s.account_id}/settings", {"time_zone": s.timezone})
        for s in specs
    ]
    await _bounded([*seats, *zones])
    return ids


async def milestones(admin: Admin) -> None:
    for rule in MILESTONES:
        await call(admin.rewards, "POST", "/v1/milestones", rule)


async def notifications(admin: Admin, receiver: WebhookReceiver) -> None:
    """Webhook channels on the demo's receiver (it learns their secrets), rules, templates."""
    for channel, path in zip(channels(receiver.url), (PRODUCT_HOOK, CSM_HOOK), strict=True):
        created = await call(admin.notifications, "POST", "/v1/channels", channel)
        receiver.secrets[path] = created["secret"]
    for rule in RULES:
        await call(admin.notifications, "POST", "/v1/rules", rule)
    for kind in ("inbox", "webhook"):
        await call(admin.notifications, "PUT", f"/v1/templates/{RENEWAL_DUE}/{kind}", RENEWAL_TEMPLATE)
