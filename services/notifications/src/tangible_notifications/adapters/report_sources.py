"""Reads what an impact report needs from entitlements and rewards, over their public HTTP
APIs with a short-lived account token (as the impact note does): the usage report of the
period, the period before and a year earlier, a monthly history for the value chart, the
account's entitlements and seats; rewards' progress, rewards, balance and ledger.

A report is read while someone waits for it, so its reads are bounded as a whole: every
source that has not answered within `budget` seconds is left out (the report names it in
`missing`), connections are given a short connect timeout, and a peer that could not be
reached is not asked again for `cooldown` seconds: while entitlements or rewards is down, a
report is served at once without their sections instead of after timeouts and retries per
source (eight sources, three attempts each)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from tangible_notifications.adapters.impact import ImpactClient, Unavailable
from tangible_notifications.domain.periods import Period
from tangible_notifications.service_layer.ports import RawSources
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.logs import get_logger

log = get_logger(__name__)
PAGE = 200  # the APIs' largest page
MAX_PAGES = 25  # a report reads at most 5,000 ledger entries or rewards
CONNECT_SECONDS = 1.0  # the peers are in the same network: a longer connect is a dead peer


class Breaker:
    """Peers (by base URL) that could not be reached recently: skipped until `cooldown`
    seconds have passed, then tried again. Shared by the reports of one process."""

    def __init__(self, cooldown: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._cooldown = cooldown
        self._monotonic = monotonic
        self._down_until: dict[str, float] = {}

    def is_down(self, peer: str) -> bool:
        return self._monotonic() < self._down_until.get(peer, 0.0)

    def trip(self, peer: str) -> None:
        self._down_until[peer] = self._monotonic() + self._cooldown

    def reset(self, peer: str) -> None:
        self._down_until.pop(peer, None)


class _Reader(ImpactClient):
    def __init__(
        self, client: httpx.AsyncClient, *, breaker: Breaker, deadline: float, **kwargs: Any
    ) -> None:
        super().__init__(client, **kwargs)
        self._breaker = breaker
        self._deadline = deadline  # on the loop's clock

    def _peer(self, url: str) -> str:
        return self._entitlements if url.startswith(self._entitlements) else self._rewards

    async def _safe(self, what: str, fetch: Awaitable[Any]) -> Any:
        peer = self._peer(what)
        if self._breaker.is_down(peer):
            if inspect.iscoroutine(fetch):
                fetch.close()  # never started: no "never awaited" warning
            log.warning("impact_source_skipped", url=what, reason="unreachable recently")
            return None
        try:
            async with asyncio.timeout_at(self._deadline):
                body = await fetch
        except (TimeoutError, httpx.TransportError) as error:
            self._breaker.trip(peer)
            log.warning("impact_source_unavailable", url=what, error=f"{type(error).__name__}: {error}"[:300])
            return None
        # InvalidURL: an account id no URL can carry (a control character) has no figures
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, Unavailable) as error:
            log.warning("impact_source_unavailable", url=what, error=f"{type(error).__name__}: {error}"[:300])
            return None
        self._breaker.reset(peer)
        return body

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
        budget: float = 5.0,
        cooldown: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,  # tests: a fake network
    ) -> None:
        self._transport = transport
        self._urls = (entitlements_url.rstrip("/"), rewards_url.rstrip("/"))
        self._issuer = issuer
        self._attempts = attempts
        self._timeout = httpx.Timeout(timeout, connect=min(CONNECT_SECONDS, timeout))
        self._budget = budget
        self._breaker = Breaker(cooldown, monotonic)

    async def sources(self, tenant_id: str, account_id: str, period: Period) -> RawSources:
        deadline = asyncio.get_running_loop().time() + self._budget
        async with httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, transport=self._transport
        ) as client:
            reader = _Reader(
                client,
                breaker=self._breaker,
                deadline=deadline,
                entitlements_url=self._urls[0],
                rewards_url=self._urls[1],
                issuer=self._issuer,
                attempts=self._attempts,
            )
            return await reader.sources(tenant_id, account_id, period)
