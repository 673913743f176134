"""The local view on a manual clock: segments take over at their start without any event
(a grant that expires at 12:00 is gone at 12:00), optimistic usage, outage modes, and a
stale position never overwriting a newer answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_client.entitlements import (
    AccountNotFound,
    AsyncEntitlements,
    EntitlementsUnavailable,
    FeatureNotFound,
)
from tangible_client.entitlements.view import LocalView

NOON = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at.timestamp()


def _entitlement(feature: str, has_access: bool, *, kind: str = "boolean", **extra: Any) -> dict[str, Any]:
    return {
        "feature_key": feature,
        "kind": kind,
        "has_access": has_access,
        "limit": extra.get("limit"),
        "usage": extra.get("usage", 0.0),
        "remaining": extra.get("remaining"),
        "overage": 0.0,
        "limit_type": "hard",
        "period_start": None,
        "period_end": None,
        "config": None,
        "sources": extra.get("sources", [{"kind": "plan", "key": "pro", "version": 1}] if has_access else []),
    }


def _account(account: str = "acct-1", position: str = "e-1", *, missing: bool = False) -> dict[str, Any]:
    """beta granted until noon; reports metered, 10 a month, 4 used."""
    grant = {"kind": "grant", "key": "support", "expires_at": NOON.isoformat()}
    reports = _entitlement("reports", True, kind="metered", limit=10.0, usage=4.0, remaining=6.0)
    return {
        "account_id": account,
        "position": position,
        "as_of": (NOON - timedelta(hours=1)).isoformat(),
        "valid_until": (NOON + timedelta(hours=23)).isoformat(),
        "missing": missing,
        "segments": []
        if missing
        else [
            {"start": (NOON - timedelta(hours=1)).isoformat(), "entitlements": [
                _entitlement("beta", True, sources=[grant]), reports]},
            {"start": NOON.isoformat(), "entitlements": [_entitlement("beta", False), reports]},
        ],
    }  # fmt: skip


def test_a_grant_is_gone_at_its_expiry_without_any_event() -> None:
    view = LocalView()
    clock = ManualClock(NOON - timedelta(minutes=1))
    view.apply(_account(), clock())
    before = view.lookup("acct-1", "beta", clock())
    assert before is not None and before.has_access and before.sources[0].kind == "grant"
    clock.at = NOON
    after = view.lookup("acct-1", "beta", clock())
    assert after is not None and not after.has_access


def test_an_account_past_its_horizon_is_due_for_a_reread() -> None:
    view = LocalView()
    view.apply(_account(), (NOON - timedelta(hours=1)).timestamp())
    assert view.expired((NOON + timedelta(hours=22)).timestamp()) == []
    assert view.expired((NOON + timedelta(hours=23)).timestamp()) == ["acct-1"]


def test_an_older_position_does_not_replace_a_newer_answer() -> None:
    view = LocalView()
    now = (NOON - timedelta(minutes=5)).timestamp()
    newer = _account(position="e-7")
    newer["segments"] = newer["segments"][1:]  # beta already gone
    view.apply(newer, now)
    assert view.apply(_account(position="e-3"), now) is None
    assert view.lookup("acct-1", "beta", now).has_access is False  # type: ignore[union-attr]
    assert view.apply(_account(position="other-1"), now) is not None  # another process: take it


def test_reported_usage_counts_at_once_and_is_marked_optimistic() -> None:
    view = LocalView()
    now = (NOON - timedelta(minutes=5)).timestamp()
    view.apply(_account(), now)
    updated = view.add_usage("acct-1", "reports", 6, now)
    assert updated is not None and updated.optimistic
    assert (updated.usage, updated.remaining, updated.has_access) == (10.0, 0.0, False)
    view.apply(_account(position="e-2"), now)  # the server's value replaces it
    fresh = view.lookup("acct-1", "reports", now)
    assert fresh is not None and not fresh.optimistic and fresh.usage == 4.0


def _sdk(clock: ManualClock, handler: Any, **options: Any) -> AsyncEntitlements:
    return AsyncEntitlements(
        "http://entitlements",
        token="t",
        stream=False,
        clock=clock,
        transport=httpx.MockTransport(handler),
        **options,
    )


def _serve_account(request: httpx.Request) -> httpx.Response:
    account = request.url.params["account"]
    return httpx.Response(200, json={"position": "e-1", "accounts": [_account(account)], "next_after": None})


async def test_first_use_fills_the_view_and_later_checks_read_memory() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return _serve_account(request)

    clock = ManualClock(NOON - timedelta(minutes=30))
    sdk = _sdk(clock, handler, timeout=5.0)
    assert (await sdk.check("acct-1", "beta")).has_access
    assert sdk.check_cached("acct-1", "beta") is not None
    await sdk.check("acct-1", "reports")
    assert len(calls) == 1
    with pytest.raises(FeatureNotFound):
        await sdk.check("acct-1", "nope")
    await sdk.aclose()


async def test_an_unlicensed_account_is_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"position": "e-1", "accounts": [_account("ghost", missing=True)], "next_after": None}
        return httpx.Response(200, json=body)

    sdk = _sdk(ManualClock(NOON), handler, timeout=5.0)
    with pytest.raises(AccountNotFound):
        await sdk.check("ghost", "beta")
    await sdk.aclose()


@pytest.mark.parametrize("outage", ["stale", "default", "raise"])
async def test_while_the_stream_is_down_checks_follow_the_outage_mode(outage: Any) -> None:
    clock = ManualClock(NOON - timedelta(minutes=30))
    sdk = _sdk(clock, _serve_account, timeout=5.0, outage=outage, default=False)
    await sdk.load(["acct-1"])
    sdk.fresh, sdk.lost_at = False, clock()  # what the stream's loss does
    clock.at += timedelta(minutes=1)
    if outage == "raise":
        with pytest.raises(EntitlementsUnavailable):
            sdk.check_cached("acct-1", "beta")
    else:
        found = sdk.check_cached("acct-1", "beta")
        assert found is not None and found.stale
        if outage == "stale":
            assert found.has_access and found.as_of == NOON - timedelta(minutes=30)
        else:
            assert found.default and not found.has_access
    await sdk.aclose()


async def test_an_unreachable_server_gives_the_default_within_the_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sdk = _sdk(ManualClock(NOON), handler, outage="default", default=True)
    found = await sdk.check("acct-9", "beta")
    assert found.default and found.has_access and found.stale
    await sdk.aclose()
