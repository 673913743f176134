"""Reads an account's usage-and-impact report (entitlements, through the entitlements SDK)
and rewards (rewards) over HTTP.

notifications is an internal service in the platform's trust domain: it mints a
short-lived, account-scoped read token with the platform signing key
(TANGIBLE_AUTH_PRIVATE_KEY) for each read. Timeouts, a few retries with jittered backoff,
and None when a service stays unavailable, so the caller writes the fallback text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from tangible_client.entitlements import AsyncEntitlements
from tangible_notifications.domain.impact import FeatureUsage, ImpactFacts, RewardsSummary, UsageReport
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.logs import get_logger

log = get_logger(__name__)
TOKEN_TTL = timedelta(minutes=5)


class Unavailable(Exception):
    """The other service did not answer usefully (after retries)."""


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(error, httpx.TransportError)


def parse_usage(body: dict[str, Any]) -> UsageReport:
    features = tuple(
        FeatureUsage(
            key=str(f["feature_key"]),
            name=str(f.get("name") or f["feature_key"]),
            total=float(f.get("total") or 0),
            outcome=f.get("outcome"),
            percentile=float(f["cohort"]["percentile"])
            if (f.get("cohort") or {}).get("percentile") is not None
            else None,
            plan_key=(f.get("cohort") or {}).get("plan_key"),
            plan_name=(f.get("cohort") or {}).get("plan_name"),
        )
        for f in body.get("features", [])
    )
    metrics = tuple((str(m["metric"]), float(m["value"])) for m in body.get("impact", []) if m.get("metric"))
    benefits = tuple(str(b.get("name") or b["feature_key"]) for b in body.get("benefits_in_force", []))
    return UsageReport(features, metrics, benefits)


def _granted_between(reward: dict[str, Any], start: date, end: date) -> bool:
    try:
        granted = datetime.fromisoformat(str(reward["granted_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return True
    return start <= granted.astimezone(UTC).date() <= end


def parse_rewards(
    rewards: dict[str, Any], balance: dict[str, Any] | None, start: date, end: date
) -> RewardsSummary:
    earned = [r for r in rewards.get("rewards", []) if _granted_between(r, start, end)]
    total: Decimal | None = None
    if balance is not None:
        try:
            total = Decimal(str(balance.get("total", "0")))
        except InvalidOperation:
            total = None
    return RewardsSummary(
        len(earned), tuple(str(r.get("name") or r.get("rule_key") or "") for r in earned), total
    )


class ImpactClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        entitlements_url: str,
        rewards_url: str,
        issuer: TokenIssuer | None,
        attempts: int = 3,
    ) -> None:
        self._client = client
        self._entitlements = entitlements_url.rstrip("/")
        self._rewards = rewards_url.rstrip("/")
        self._issuer = issuer
        self._attempts = attempts
        # reports, not checks: no local view and no change stream, the caller's HTTP client
        self._sdk = AsyncEntitlements(entitlements_url, token="", stream=False, http_client=client)

    async def _get(
        self, url: str, tenant_id: str, account_id: str, params: dict[str, str] | None = None
    ) -> Any:
        async def get(token: str) -> Any:
            response = await self._client.get(
                url, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            return response.json()

        return await self._retrying(get, tenant_id, account_id)

    async def _retrying(self, call: Callable[[str], Awaitable[Any]], tenant_id: str, account_id: str) -> Any:
        if self._issuer is None:
            raise Unavailable("no signing key (TANGIBLE_AUTH_PRIVATE_KEY) to read other services with")
        # wall-clock time on purpose: the token's expiry is checked by the other service's clock
        token = self._issuer.issue(tenant_id=tenant_id, scopes=["read"], account_id=account_id, ttl=TOKEN_TTL)
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            retry=retry_if_exception(_retryable),
            reraise=True,
        ):
            with attempt:
                return await call(token.token)
        raise Unavailable(account_id)  # unreachable: reraise=True

    async def _safe(self, what: str, fetch: Awaitable[Any]) -> Any:
        try:
            return await fetch
        # InvalidURL: an account id no URL can carry (a control character) has no figures
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, Unavailable) as error:
            log.warning("impact_source_unavailable", url=what, error=f"{type(error).__name__}: {error}"[:300])
            return None

    async def _usage(
        self, tenant_id: str, account_id: str, start: date, end: date, granularity: str = "month"
    ) -> Any:
        """The usage & impact report, through the entitlements SDK (one token per account)."""

        def call(token: str) -> Awaitable[Any]:
            return self._sdk.usage_report(
                account_id, start=start, end=end, granularity=granularity, token=token
            )

        return await self._retrying(call, tenant_id, account_id)

    async def facts(
        self, tenant_id: str, account_id: str, start: date, end: date, period: str, locale: str = "en"
    ) -> ImpactFacts:
        base = f"/v1/accounts/{account_id}"
        usage_body, rewards_body, balance_body = await asyncio.gather(
            self._safe(f"{self._entitlements}{base}/usage", self._usage(tenant_id, account_id, start, end)),
            self._safe(
                f"{self._rewards}{base}/rewards",
                self._get(f"{self._rewards}{base}/rewards", tenant_id, account_id),
            ),
            self._safe(
                f"{self._rewards}{base}/balance",
                self._get(f"{self._rewards}{base}/balance", tenant_id, account_id),
            ),
        )
        extra: dict[str, Any] = {}
        if period == "this term":  # renewal reminders: what renewing brings (entitlements)
            url = f"{self._entitlements}{base}/whats-new"
            # in the reader's language: entitlements writes the lines from its catalog
            params = {"locale": locale} if locale != "en" else None
            whats_new = await self._safe(url, self._get(url, tenant_id, account_id, params))
            if isinstance(whats_new, dict):
                extra["whats_new"] = [
                    str(c["text"])
                    for c in [*whats_new.get("changes", []), *whats_new.get("reward_benefits", [])]
                ]
        usage = None
        if isinstance(usage_body, dict):
            try:
                usage = parse_usage(usage_body)
            except (KeyError, TypeError, ValueError):
                log.warning("impact_report_unreadable", account_id=account_id)
        rewards = None
        if isinstance(rewards_body, dict):
            balance = balance_body if isinstance(balance_body, dict) else None
            rewards = parse_rewards(rewards_body, balance, start, end)
        return ImpactFacts(period=period, usage=usage, rewards=rewards, extra=extra)
