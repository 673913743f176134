"""The impact report's reads of entitlements and rewards, over a fake network: every source
is read once; a peer that cannot be reached is left out at once (and not asked again for a
while); a peer that does not answer is left out when the report's time for its sources ends."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tangible_notifications.adapters.report_sources import ReportSources
from tangible_notifications.domain.periods import parse_period
from tangible_runtime.auth import TokenIssuer, generate_keypair

ENT, REW = "http://entitlements.test", "http://rewards.test"
Q3 = parse_period("2026-Q3")


class Network:
    """A fake network: the requests seen, by host, and what each host does."""

    def __init__(self, down: frozenset[str] = frozenset(), silent: frozenset[str] = frozenset()) -> None:
        self.down, self.silent = down, silent
        self.seen: Counter[str] = Counter()
        self.now = 0.0  # the breaker's clock, moved by the test

    async def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.seen[host] += 1
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if host in self.silent:
            await asyncio.Event().wait()  # never answers
        path = request.url.path
        if path.endswith("/usage"):
            return httpx.Response(
                200, json={"features": [], "impact": [], "granularity": request.url.params["granularity"]}
            )
        if path.endswith("/rewards"):
            return httpx.Response(200, json={"rewards": []})
        if path.endswith("/ledger"):
            return httpx.Response(200, json={"entries": []})
        return httpx.Response(200, json={"path": path})

    def sources(self, *, budget: float = 5.0) -> ReportSources:
        return ReportSources(
            entitlements_url=ENT,
            rewards_url=REW,
            issuer=TokenIssuer(generate_keypair()[0], issuer="tangible"),
            attempts=3,
            timeout=3.0,
            budget=budget,
            cooldown=15.0,
            monotonic=lambda: self.now,
            transport=httpx.MockTransport(self.handle),
        )


async def test_every_source_is_read_once() -> None:
    network = Network()
    raw = await network.sources().sources("t1", "acct-1", Q3)
    assert raw.usage == {"features": [], "impact": [], "granularity": "week"}
    assert raw.history is not None and raw.history["granularity"] == "month"
    assert raw.seats == {"path": "/v1/accounts/acct-1/seats"}
    assert raw.balance == {"path": "/v1/accounts/acct-1/balance"}
    assert raw.rewards == [] and raw.ledger == []
    # four usage reports, entitlements, seats; progress, balance, a page of rewards and of ledger
    assert network.seen == Counter({"entitlements.test": 6, "rewards.test": 4})


async def test_an_unreachable_peer_is_left_out_and_not_asked_again_for_a_while() -> None:
    network = Network(down=frozenset({"rewards.test"}))
    sources = network.sources()
    raw = await sources.sources("t1", "acct-1", Q3)
    assert raw.usage is not None and raw.seats is not None  # entitlements answered
    assert (raw.progress, raw.balance, raw.rewards, raw.ledger) == (None, None, None, None)
    asked = network.seen["rewards.test"]

    network.now += 10  # within the cooldown: rewards is not asked
    raw = await sources.sources("t1", "acct-1", Q3)
    assert raw.balance is None and network.seen["rewards.test"] == asked

    network.now += 10  # after it: asked again, and read once it is back
    network.down = frozenset()
    raw = await sources.sources("t1", "acct-1", Q3)
    assert raw.balance == {"path": "/v1/accounts/acct-1/balance"} and network.seen["rewards.test"] > asked


async def test_a_peer_that_does_not_answer_is_left_out_when_the_reports_time_is_up() -> None:
    network = Network(silent=frozenset({"entitlements.test"}))
    raw = await network.sources(budget=0.2).sources("t1", "acct-1", Q3)
    assert (raw.usage, raw.previous, raw.year_earlier, raw.history, raw.entitlements, raw.seats) == (
        (None,) * 6
    )
    assert raw.balance == {"path": "/v1/accounts/acct-1/balance"}  # rewards answered


async def test_an_account_id_no_url_can_carry_has_no_figures_and_no_error() -> None:
    network = Network()
    raw = await network.sources().sources("t1", "acct\x0b1", Q3)
    assert raw == type(raw)(*(None,) * 10) and not network.seen
