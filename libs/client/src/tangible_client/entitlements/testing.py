"""Test helpers: answers in the server's format, a manual clock, and an in-memory
`/v1/entitlements/view` to pass as `transport=` (no change stream: use `stream=False`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx


class ManualClock:
    """Epoch seconds of a moment the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()

    def advance(self, by: timedelta) -> None:
        self.at += by


def entitlement(
    feature_key: str,
    has_access: bool = True,
    *,
    kind: str = "boolean",
    limit: float | None = None,
    usage: float = 0.0,
    config: Any = None,
    sources: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    remaining = None if limit is None else max(limit - usage, 0.0)
    return {
        "feature_key": feature_key,
        "kind": kind,
        "has_access": has_access,
        "limit": limit,
        "usage": usage,
        "remaining": remaining,
        "overage": 0.0 if limit is None else max(usage - limit, 0.0),
        "limit_type": "hard",
        "period_start": None,
        "period_end": None,
        "config": config,
        "sources": list(sources)
        if sources is not None
        else ([{"kind": "plan", "key": "pro"}] if has_access else []),
    }


def account(
    account_id: str,
    segments: Sequence[tuple[datetime, Sequence[dict[str, Any]]]],
    *,
    valid_until: datetime,
    position: str = "test-1",
) -> dict[str, Any]:
    """An account as the server sends it: `segments` are (start, entitlements), in order."""
    return {
        "account_id": account_id,
        "position": position,
        "as_of": segments[0][0].isoformat() if segments else valid_until.isoformat(),
        "valid_until": valid_until.isoformat(),
        "missing": not segments,
        "segments": [{"start": start.isoformat(), "entitlements": list(found)} for start, found in segments],
    }


def view_transport(accounts: dict[str, dict[str, Any]]) -> httpx.MockTransport:
    """Serves `GET /v1/entitlements/view?account=…` from `accounts` (by id; unknown: 403)."""

    def handler(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get_list("account")
        if any(a not in accounts for a in wanted):
            return httpx.Response(403, json={"title": "this credential is scoped to another account"})
        found = [accounts[a] for a in wanted] if wanted else list(accounts.values())
        return httpx.Response(200, json={"position": "test-1", "accounts": found, "next_after": None})

    return httpx.MockTransport(handler)
