"""The live stream a customer's page opens with a portal token: events as they happen, a
resume after a disconnect that loses and repeats nothing, and no other account's events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, provision
from tangible_devstack.testing import eventually, serving

pytestmark = pytest.mark.integration

ACCOUNT, OTHER = "acct-live", "acct-other"
ADJUSTED = "tangible.rewards.v1.credits_adjusted"


@dataclass
class Listener:
    """An open stream: the frames it received, in order."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    status: int | None = None

    @property
    def last_id(self) -> str | None:
        ids = [f["id"] for f in self.frames if "id" in f]
        return ids[-1] if ids else None

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("event") == event_type]


async def _listen(url: str, token: str, listener: Listener, last_id: str | None = None) -> None:
    headers = {**bearer(token), "Accept": "text/event-stream"}
    if last_id:
        headers["Last-Event-ID"] = last_id
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        listener.status = response.status_code
        if response.status_code != 200:
            return
        frame: dict[str, Any] = {}
        async for line in response.aiter_lines():
            if not line:
                if frame:
                    listener.frames.append(frame)
                frame = {}
                continue
            name, _, value = line.partition(": ")
            if name in ("id", "event"):
                frame[name] = value
            elif name == "data":
                frame["data"] = orjson.loads(value)


@contextlib.asynccontextmanager
async def listening(url: str, token: str, last_id: str | None = None) -> AsyncIterator[Listener]:
    listener = Listener()
    task = asyncio.create_task(_listen(url, token, listener, last_id))
    try:
        await eventually(lambda: _opened(listener))
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _opened(listener: Listener) -> None:
    assert listener.status is not None


async def _adjust(system: Clients, admin: str, amount: str, reason: str) -> None:
    response = await system.rewards.post(
        f"/v1/accounts/{ACCOUNT}/adjustments",
        json={"amount": amount, "reason": reason},
        headers=bearer(admin),
    )
    assert response.status_code in (200, 201), response.text


async def test_a_portal_page_sees_its_accounts_events_live_and_resumes_without_loss(
    start_system: Any, issue_token: IssueToken, tenant_id: str, started_services: dict[str, Any]
) -> None:
    system: Clients = await start_system(overrides={"notifications": {"stream_heartbeat_seconds": 0.5}})
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    portal = await system.entitlements.post(
        "/v1/portal-tokens", json={"account_id": ACCOUNT}, headers=bearer(admin)
    )
    assert portal.status_code == 201, portal.text
    token = portal.json()["token"]
    async with serving(started_services["notifications"].app) as base:
        url = f"{base}/v1/accounts/{ACCOUNT}/stream"
        async with listening(url, token) as first:
            assert first.status == 200
            await _adjust(system, admin, "10", "live one")

            async def arrived() -> None:
                [event] = first.of_type(ADJUSTED)
                assert event["data"]["data"]["reason"] == "live one"
                assert event["data"]["subject"] == ACCOUNT

            await eventually(arrived, timeout=5)
        resume_from = first.last_id
        assert resume_from

        await _adjust(system, admin, "20", "while away")  # nobody listening
        async with listening(url, token, last_id=resume_from) as second:
            await _adjust(system, admin, "30", "back again")

            async def caught_up() -> None:
                reasons = [e["data"]["data"]["reason"] for e in second.of_type(ADJUSTED)]
                assert reasons == ["while away", "back again"], reasons  # none lost, none repeated

            await eventually(caught_up, timeout=10)

        other = issue_token(tenant_id, "read", account_id=OTHER)
        async with listening(url, other) as refused:
            assert refused.status == 403
        async with listening(f"{base}/v1/accounts/{OTHER}/stream", other) as elsewhere:
            await _adjust(system, admin, "40", "not theirs")
            await asyncio.sleep(1.5)
            assert elsewhere.of_type(ADJUSTED) == []

        async with listening(url, token) as ending:
            invalidated = await system.entitlements.post(
                "/v1/portal-tokens/invalidate", json={"account_id": ACCOUNT}, headers=bearer(admin)
            )
            assert invalidated.status_code == 202

            async def ended() -> None:
                assert ending.of_type("credential-expired"), ending.frames

            await eventually(ended, timeout=5)


DELIVERED = "tangible.notifications.v1.notification_delivered"
SEAT = "tangible.entitlements.v1.seat_assigned"
CROSSED = "tangible.entitlements.v1.threshold_crossed"
MILESTONE = "tangible.rewards.v1.milestone_reached"


def _users(listener: Listener, event_type: str) -> set[str | None]:
    return {f["data"]["data"].get("user_id") for f in listener.of_type(event_type)}


async def test_a_users_stream_shows_theirs_and_the_accounts_an_accounts_stream_the_accounts_only(
    start_system: Any, issue_token: IssueToken, tenant_id: str, started_services: dict[str, Any]
) -> None:
    """Inbox items, a threshold crossed and a milestone reached reach the stream (not only
    credit adjustments); a user's portal token sees their own and the account-wide events, never
    another user's; an account's portal token sees the account-wide ones only; a token limited
    to some features, no event about another feature."""
    system: Clients = await start_system(overrides={"notifications": {"stream_heartbeat_seconds": 0.5}})
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)  # reports limited to 2, a milestone at 1, a threshold rule
    seats_rule = {"name": "Seats", "event_types": [SEAT], "channels": ["inbox"]}
    ruled = await system.notifications.post("/v1/rules", json=seats_rule, headers=bearer(admin))
    assert ruled.status_code == 201, ruled.text

    async def portal_token(**claims: Any) -> str:
        minted = await system.entitlements.post(
            "/v1/portal-tokens", json={"account_id": ACCOUNT, **claims}, headers=bearer(admin)
        )
        assert minted.status_code == 201, minted.text
        return str(minted.json()["token"])

    licenses = await system.entitlements.get(f"/v1/accounts/{ACCOUNT}/licenses", headers=bearer(admin))
    [license] = licenses.json()["items"]
    ingest = {**bearer(issue_token(tenant_id, "ingest")), "Content-Type": "application/cloudevents+json"}
    async with serving(started_services["notifications"].app) as base:
        url = f"{base}/v1/accounts/{ACCOUNT}/stream"
        async with (
            listening(url, await portal_token(user_id="u-1")) as user,
            listening(url, await portal_token(user_id="u-2")) as other,
            listening(url, await portal_token()) as account,
            listening(url, await portal_token(features=["sso"])) as narrowed,
        ):
            assert (user.status, other.status, account.status, narrowed.status) == (200, 200, 200, 200)
            for who in ("u-1", "u-2"):
                seated = await system.entitlements.post(
                    f"/v1/licenses/{license['id']}/seats", json={"user_id": who}, headers=bearer(admin)
                )
                assert seated.status_code == 201, seated.text
            for n in (1, 2):  # the milestone at 1, the limit of 2 crossed
                event = {
                    "specversion": "1.0",
                    "id": f"evt-live-{n}",
                    "source": "app://reports",
                    "type": "report.generated",
                    "subject": ACCOUNT,
                    "data": {"quantity": 1},
                }
                sent = await system.ingest.post("/v1/events", json=event, headers=ingest)
                assert sent.status_code == 202, sent.text

            async def arrived() -> None:
                assert user.of_type(CROSSED) and user.of_type(MILESTONE)
                assert _users(user, SEAT) == {"u-1"}
                # inbox items: u-1's seat, and the account-wide threshold notice(s)
                assert _users(user, DELIVERED) == {"u-1", None}
                assert all(f["data"]["data"]["channel"] == "inbox" for f in user.of_type(DELIVERED))
                assert account.of_type(CROSSED) and account.of_type(MILESTONE)
                assert _users(account, DELIVERED) == {None}
                assert _users(other, SEAT) == {"u-2"} and _users(other, DELIVERED) == {"u-2", None}
                # `features`: events that name another feature are not sent; the rest are
                assert narrowed.of_type(MILESTONE) and _users(narrowed, DELIVERED) == {None}

            await eventually(arrived, timeout=20)
            # u-2's seat and inbox item, streamed to u-2, went to neither (nor any user's to the account's)
            assert "u-2" not in _users(user, SEAT) | _users(user, DELIVERED)
            assert account.of_type(SEAT) == []
            assert narrowed.of_type(CROSSED) == []  # about reports: not for an sso-only token
            assert len(account.of_type(DELIVERED)) == len(
                [f for f in user.of_type(DELIVERED) if f["data"]["data"].get("user_id") is None]
            )
