"""Reads what an impact report needs from entitlements and rewards, over their public HTTP
APIs with a short-lived account token (as the impact note does): the usage report of the
period, the period before and a year earlier, a monthly history for the value chart, the
account's entitlements and seats; rewards' progress, rewards, balance and ledger."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx

from tangible_notifications.adapters.impact import ImpactClient
from tangible_notifications.domain.periods import Period
from tangible_notifications.service_layer.ports import RawSources
from tangible_runtime.auth import TokenIssuer

PAGE = 200  # the APIs' largest page
MAX_PAGES = 25  # a report reads at most 5,000 ledger entries or rewards


class _Reader(ImpactClient):
    async def _period_usage(
        self, tenant_id: str, account_id: str, start: date, end: date, granularity: str
    ) -> dict[str, Any] | None:
        body = await self._safe(
            f"{self._entitlements}/v1/accounts/{account_id}/usage",
            self._usage(tenant_id, account_id, start, end, granularity),
        )
        return body if isinstance(body, dict) else None

    async def _one(self, url: str, tenant_id: str, account_id: str) -> dict[str, Any] | None:
        body = await self._safe(url, self._get(url, tenant_id, account_id))
        return body if isinstance(body, dict) else None

    async def _pages(
        self, url: str, tenant_id: str, account_id: str, key: str
    ) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            params = {"limit": str(PAGE), "offset": str(page * PAGE)}
            body = await self._safe(url, self._get(url, tenant_id, account_id, params))
            if not isinstance(body, dict):
                return None
            batch = body.get(key) or []
            items.extend(batch)
            if len(batch) < PAGE:
                break
        return items

    async def sources(self, tenant_id: str, account_id: str, period: Period) -> RawSources:
        ent = f"{self._entitlements}/v1/accounts/{account_id}"
        rew = f"{self._rewards}/v1/accounts/{account_id}"
        before, earlier = period.previous(), period.year_earlier()
        history_start = date(earlier.start.year, earlier.start.month, 1)
        usage, previous, year_earlier, history, entitlements, seats, progress, balance = await asyncio.gather(
            self._period_usage(tenant_id, account_id, period.start, period.end, period.granularity),
            self._period_usage(tenant_id, account_id, before.start, before.end, "month"),
            self._period_usage(tenant_id, account_id, earlier.start, earlier.end, "month"),
            self._period_usage(tenant_id, account_id, history_start, period.end, "month"),
            self._one(f"{ent}/entitlements", tenant_id, account_id),
            self._one(f"{ent}/seats", tenant_id, account_id),
            self._one(f"{rew}/progress", tenant_id, account_id),
            self._one(f"{rew}/balance", tenant_id, account_id),
        )
        rewards, ledger = await asyncio.gather(
            self._pages(f"{rew}/rewards", tenant_id, account_id, "rewards"),
            self._pages(f"{rew}/ledger", tenant_id, account_id, "entries"),
        )
        return RawSources(
            usage, previous, year_earlier, history, entitlements, seats, progress, rewards, balance, ledger
        )


class ReportSources:
    """A client of its own per report, opened on the loop that serves the request: a pooled
    connection is bound to the event loop that opened it, and an API process may serve
    requests on more than one loop (test clients run the app in a thread of their own)."""

    def __init__(
        self,
        *,
        entitlements_url: str,
        rewards_url: str,
        issuer: TokenIssuer | None,
        attempts: int,
        timeout: float,
    ) -> None:
        self._urls = (entitlements_url, rewards_url)
        self._issuer = issuer
        self._attempts = attempts
        self._timeout = timeout

    async def sources(self, tenant_id: str, account_id: str, period: Period) -> RawSources:
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            reader = _Reader(
                client,
                entitlements_url=self._urls[0],
                rewards_url=self._urls[1],
                issuer=self._issuer,
                attempts=self._attempts,
            )
            return await reader.sources(tenant_id, account_id, period)
