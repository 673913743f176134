"""AsyncEntitlements: checks answered from a local view kept fresh by the change stream.

The view is filled on first use per account (or up front for a list of accounts, or the
whole tenant), from `GET /v1/entitlements/view`; then `GET /v1/entitlements/stream` (server-
sent events) sends each changed account's new answers. While the stream is down, checks are
answered according to `outage`; a check never waits on the network longer than `timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import orjson

from tangible_client.client import TangibleClient
from tangible_client.entitlements.model import (
    AccountNotFound,
    Check,
    CredentialRefused,
    EntitlementsUnavailable,
    FeatureNotFound,
    Outage,
    default_check,
)
from tangible_client.entitlements.sse import frames
from tangible_client.entitlements.telemetry import Metrics, log
from tangible_client.entitlements.view import AccountView, LocalView
from tangible_client.retry import jittered_backoff

CHUNK = 500  # accounts per read of the view
Clock = Callable[[], float]


class AsyncEntitlements:
    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        accounts: Iterable[str] = (),
        whole_tenant: bool = False,
        account: str | None = None,
        outage: Outage = "stale",
        default: bool = False,
        timeout: float = 0.05,
        stream: bool = True,
        clock: Clock = time.time,
        ingest: TangibleClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 5.0,
        stream_idle_timeout: float = 30.0,
        housekeeping_interval: float = 1.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """`account`: follow only this account's changes (what an account-scoped credential
        may do); `whole_tenant`: hold every account of the tenant; `default`: has_access of
        the answer given when there is no value (outage `default`, or nothing known yet)."""
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._initial = list(dict.fromkeys(accounts))
        self._whole_tenant = whole_tenant
        self._account = account
        self._outage = outage
        self._default = default
        self.timeout = timeout
        self._streaming = stream
        self.clock = clock
        self._ingest = ingest
        self._transport = transport
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._rng = rng  # draws the reconnect jitter
        self._idle = stream_idle_timeout
        self._housekeeping_interval = housekeeping_interval
        self.view = LocalView()
        self.metrics = Metrics()
        self.fresh = not stream  # without a stream, values are as of their reading
        self.lost_at: float | None = None
        self.stopped: str | None = None  # why the stream stopped for good (credential refused)
        self.position: str | None = None
        self._http = http_client  # the caller's (kept open at close) or ours
        self._own_http = http_client is None
        self._tasks: list[asyncio.Task[None]] = []
        self._fills: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    async def __aenter__(self) -> AsyncEntitlements:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=10.0)
        return self._http

    def _url(self, path: str) -> str:
        return self._base_url + path

    async def start(self) -> None:
        """Load the accounts asked for up front, then follow the change stream."""
        try:
            await self._load_initial()
        except (httpx.HTTPError, ValueError) as error:  # serve by the outage mode until the stream is up
            log.warning("entitlements_initial_load_failed: %s", error)
        if self._streaming:
            self._tasks.append(asyncio.create_task(self._follow(), name="tangible-entitlements-stream"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="tangible-entitlements-refresh"))

    async def aclose(self) -> None:
        self._closed = True
        for task in [*self._tasks, *self._fills.values()]:
            task.cancel()
        for task in [*self._tasks, *self._fills.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None and self._own_http:
            await self._http.aclose()

    # -- checks ------------------------------------------------------------------------------

    def check_cached(self, account_id: str, feature_key: str) -> Check | None:
        """The answer from the local view, or None when the account is not in it (no I/O)."""
        account = self.view.accounts.get(account_id)
        if account is None:
            return None
        now = self.clock()
        if now >= account.until:
            account.advance(now)
        found = account.current.get(feature_key)
        if found is None:
            self._absent(account, feature_key)
        if self.fresh:
            return found
        return self._degraded(found, feature_key)  # type: ignore[arg-type]

    async def check(self, account_id: str, feature_key: str) -> Check:
        found = self.check_cached(account_id, feature_key)
        if found is not None:
            return found
        self.metrics.add("misses")
        try:
            await asyncio.wait_for(asyncio.shield(self._fill(account_id)), self.timeout)
        except CredentialRefused:
            raise
        except (TimeoutError, httpx.HTTPError, ValueError) as error:
            return self._no_value(account_id, feature_key, error)
        found = self.check_cached(account_id, feature_key)
        if found is None:  # cannot happen: the fill put the account in the view
            return self._no_value(account_id, feature_key, None)
        return found

    async def entitlements(self, account_id: str) -> list[Check]:
        """Every entitlement of the account (as the HTTP list)."""
        if account_id not in self.view.accounts:
            try:
                await asyncio.wait_for(asyncio.shield(self._fill(account_id)), self.timeout)
            except (TimeoutError, httpx.HTTPError, ValueError) as error:
                raise EntitlementsUnavailable(f"no value for account '{account_id}'") from error
        account = self.view.accounts[account_id]
        if account.missing:
            raise AccountNotFound(f"account '{account_id}' has no license")
        now = self.clock()
        if now >= account.until:
            account.advance(now)
        checks = list(account.current.values())
        return checks if self.fresh else [self._degraded(c, c.feature_key) for c in checks]

    async def load(self, account_ids: Iterable[str]) -> None:
        """Put these accounts in the view now (eager filling)."""
        await self._fetch(list(account_ids))

    def _absent(self, account: AccountView, feature_key: str) -> None:
        if account.missing:
            raise AccountNotFound(f"account '{account.account_id}' has no license")
        raise FeatureNotFound(f"feature '{feature_key}' does not exist")

    def _degraded(self, found: Check, feature_key: str) -> Check:
        self.metrics.add("degraded", mode=self._outage)
        if self._outage == "stale":
            as_of = datetime.fromtimestamp(self.lost_at or self.clock(), UTC)
            return dataclasses.replace(found, stale=True, as_of=as_of)
        if self._outage == "default":
            return default_check(feature_key, self._default)
        raise EntitlementsUnavailable(f"entitlements unreachable since {self.lost_at}")

    def _no_value(self, account_id: str, feature_key: str, error: BaseException | None) -> Check:
        self.metrics.add("degraded", mode=self._outage)
        if self._outage == "raise":
            raise EntitlementsUnavailable(f"no value for '{account_id}' within {self.timeout} s") from error
        return default_check(feature_key, self._default)

    # -- usage ------------------------------------------------------------------------------

    async def report_usage(
        self,
        account_id: str,
        feature_key: str,
        quantity: float = 1.0,
        *,
        event_type: str | None = None,
        user_id: str | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Check | None:
        """Send the usage (through `ingest`, as `event_type`, default the feature's key) and
        count it in the local view now, marked `optimistic`, until the server's next value
        for the account replaces it."""
        updated = self.view.add_usage(account_id, feature_key, quantity, self.clock())
        if self._ingest is not None:
            await self._ingest.record(
                event_type or feature_key, account_id, quantity, user_id=user_id, properties=properties
            )
        return updated

    async def usage_report(
        self, account_id: str, *, start: date, end: date, granularity: str = "month", token: str | None = None
    ) -> Any:
        """`GET /v1/accounts/{id}/usage` (the usage & impact report), as JSON."""
        params = {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity}
        response = await self.http.get(
            self._url(f"/v1/accounts/{account_id}/usage"), params=params, headers=self._headers(token)
        )
        response.raise_for_status()
        return response.json()

    # -- reading the server ------------------------------------------------------------------

    def _headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self._token}"}

    async def _load_initial(self) -> None:
        if self._whole_tenant:
            await self._fetch_tenant()
        elif self._initial:
            await self._fetch(self._initial)

    def _fill(self, account_id: str) -> asyncio.Task[None]:
        task = self._fills.get(account_id)
        if task is None:
            task = asyncio.create_task(self._fetch([account_id]))
            self._fills[account_id] = task
            task.add_done_callback(lambda _: self._fills.pop(account_id, None))
        return task

    async def _read(self, params: list[tuple[str, str | int]]) -> dict[str, Any]:
        started = time.perf_counter()
        query = httpx.QueryParams([(k, str(v)) for k, v in params])
        response = await self.http.get(
            self._url("/v1/entitlements/view"), params=query, headers=self._headers()
        )
        if response.status_code in (401, 403):
            raise CredentialRefused(response.text[:300])
        response.raise_for_status()
        self.metrics.fetched(time.perf_counter() - started)
        body: dict[str, Any] = orjson.loads(response.content)
        return body

    async def _fetch(self, account_ids: list[str]) -> None:
        for i in range(0, len(account_ids), CHUNK):
            body = await self._read([("account", a) for a in account_ids[i : i + CHUNK]])
            self._take(body)

    async def _fetch_tenant(self) -> None:
        after: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [("limit", 1000)] + ([("after", after)] if after else [])
            body = await self._read(params)
            self._take(body)
            after = body.get("next_after")
            if not after:
                return

    def _take(self, body: dict[str, Any]) -> None:
        now = self.clock()
        for data in body["accounts"]:
            self.view.apply(data, now)
        if self.position is None:
            self.position = body.get("position")

    async def _reload(self) -> None:
        if self._whole_tenant:
            await self._fetch_tenant()
        else:
            await self._fetch(list(self.view.accounts))

    async def _housekeeping(self) -> None:
        """Re-read accounts past the end of what the server said about them."""
        while True:
            await asyncio.sleep(self._housekeeping_interval)
            expired = self.view.expired(self.clock())
            if expired:
                with contextlib.suppress(httpx.HTTPError, ValueError, CredentialRefused):
                    await self._fetch(expired)

    # -- the change stream -------------------------------------------------------------------

    async def _follow(self) -> None:
        """Reconnect after the stream ends or fails, waiting a jittered backoff (clients lost
        together do not all come back in the same instant) that restarts after a stream that
        ended cleanly."""
        failures = 0
        while not self._closed:
            try:
                await self._stream_once()
                failures = 0
            except CredentialRefused as error:
                self._lose()
                self.stopped = f"credential refused: {error}"
                log.warning("entitlements_stream_stopped: %s", error)
                return
            except (httpx.HTTPError, ValueError, KeyError) as error:
                log.info("entitlements_stream_lost: %s", error)
            self._lose()
            self.metrics.add("stream_reconnects")
            failures += 1
            await asyncio.sleep(
                jittered_backoff(failures, self._reconnect_delay, self._max_reconnect_delay, self._rng)
            )

    def _lose(self) -> None:
        if self.fresh:
            self.fresh = False
            self.lost_at = self.clock()

    async def _stream_once(self) -> None:
        headers = self._headers()
        if self.position:
            headers["Last-Event-ID"] = self.position
        params = {"account": self._account} if self._account else {}
        timeout = httpx.Timeout(5.0, read=self._idle)
        async with self.http.stream(
            "GET", self._url("/v1/entitlements/stream"), params=params, headers=headers, timeout=timeout
        ) as response:
            if response.status_code in (401, 403):
                raise CredentialRefused((await response.aread())[:300].decode(errors="replace"))
            response.raise_for_status()
            async for frame in frames(response.aiter_lines()):
                if frame.event == "credential-expired":
                    raise CredentialRefused(frame.data)
                if frame.event == "ready":
                    if not orjson.loads(frame.data or "{}").get("resumed"):
                        await self._reload()  # what changed while away is not known: read it all
                    self.fresh, self.lost_at = True, None
                elif frame.event == "resync":
                    await self._reload()
                elif frame.event == "account":
                    data = orjson.loads(frame.data)
                    if self._whole_tenant or data["account_id"] in self.view.accounts:
                        self.view.apply(data, self.clock())
                        self.metrics.add("changes")
                if frame.id:
                    self.position = frame.id
