"""Customer-success signals from real usage: upgrade suggestions and renewals at risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_entitlements.entrypoints.scheduler import run_lifecycle
from tangible_runtime.auth import TokenIssuer

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"
UPGRADE = "tangible.entitlements.v1.upgrade_suggested"
RISK = "tangible.entitlements.v1.renewal_risk_detected"
BASE = {"support": {"config": "standard"}, "seats": {}}
CATALOG = [
    (
        "plans",
        {"key": "team", "name": "Team", "price": 20, "features": {"reports": {"limit": 40}, "seats": {}}},
    ),
    (
        "plans",
        {"key": "growth", "name": "Growth", "price": 30, "features": {"reports": {"limit": 50}, **BASE}},
    ),
    (
        "plans",
        {"key": "scale", "name": "Scale", "price": 80, "features": {"reports": {"limit": 500}, **BASE}},
    ),
    ("addons", {"key": "boost", "name": "Boost", "price": 1, "features": {"reports": {"limit": 1}}}),
    ("addons", {"key": "seat-pack", "name": "Seat pack", "price": 10, "features": {"seats": {"limit": 5}}}),
]


async def counted(h: Any, account: str, start: str, end: str, total: float) -> None:
    async def probe() -> None:
        report = await h.call("GET", f"/v1/accounts/{account}/usage?from={start}&to={end}")
        assert report["features"][0]["total"] == total, report

    await eventually(probe)


async def test_an_upgrade_is_suggested_once_per_evidence_naming_the_cheapest_fitting_plan(
    service: Any, token_issuer: TokenIssuer
) -> None:
    h = service
    h.clock.set(datetime(2026, 10, 10, tzinfo=UTC))
    license = await h.provision(limit=10, hard=False)  # starter: 10 reports a month, soft
    for path, body in CATALOG:
        await h.call("POST", f"/v1/{path}", body)
        await h.call("POST", f"/v1/{path}/{body['key']}/versions/1/publish")
    await h.produce([h.usage("acct-1", at=datetime(2026, 10, 10, 9, tzinfo=UTC)) for _ in range(9)])
    await counted(h, "acct-1", "2026-10-01", "2026-10-31", 9)
    h.clock.set(datetime(2026, 11, 5, tzinfo=UTC))
    await h.produce([h.usage("acct-1", at=datetime(2026, 11, 4, 9, tzinfo=UTC)) for _ in range(8)])

    [near] = await h.wait_events(1, TOPIC, UPGRADE)
    data = near.data
    # team is cheaper but has no support level: it would take something away; boost is too small
    assert (data.reason, data.suggestion_kind, data.suggestion_key, data.suggestion_version) == (
        "near_limit",
        "plan",
        "growth",
        1,
    )
    assert (data.license_id, data.current_plan_key) == (license["id"], "starter")
    assert [(e.feature_key, e.usage, e.limit, e.period_start.month) for e in data.evidence] == [
        ("reports", 9, 10, 10),
        ("reports", 8, 10, 11),
    ]
    # more usage on the same evidence: no new suggestion; past the soft limit: one more
    await h.produce([h.usage("acct-1", at=datetime(2026, 11, 4, 10, tzinfo=UTC)) for _ in range(4)])
    await counted(h, "acct-1", "2026-11-01", "2026-11-30", 12)
    await run_lifecycle(h.app.state.container)
    found = await h.wait_events(2, TOPIC, UPGRADE)
    soft = found[1].data
    assert (soft.reason, soft.suggestion_key) == ("soft_limit_exceeded", "growth")
    assert soft.evidence[0].usage == 12 and soft.evidence[0].detail == "over the soft limit by 2"

    # every seat taken: only an add-on adds seats (a plan keeps the license's seat count)
    for user in ("u1", "u2", "u3"):
        await h.call("POST", f"/v1/licenses/{license['id']}/seats", {"user_id": user}, status=201)
    found = await h.wait_events(3, TOPIC, UPGRADE)
    seats = found[2].data
    assert (seats.reason, seats.suggestion_kind, seats.suggestion_key) == ("seats_full", "addon", "seat-pack")
    assert (seats.evidence[0].usage, seats.evidence[0].limit) == (3, 3)
    await run_lifecycle(h.app.state.container)
    await h.relay_idle()
    assert len(await h.events(TOPIC, UPGRADE)) == 3

    # the account reads what is open (its own token, a portal token): the latest per suggestion
    path = "/v1/accounts/acct-1/upgrade-suggestions"
    response = await h.client.get(path, headers=h.headers("read", account_id="acct-1"))
    assert response.status_code == 200, response.text
    suggestions = response.json()["suggestions"]
    assert sorted((s["suggestion_kind"], s["suggestion_key"]) for s in suggestions) == [
        ("addon", "seat-pack"),
        ("plan", "growth"),
    ]
    growth = next(s for s in suggestions if s["suggestion_key"] == "growth")
    assert growth["suggestion_name"] == "Growth" and growth["evidence"][0]["feature_key"] == "reports"
    reports_only = token_issuer.issue_portal(tenant_id=h.tenant, account_id="acct-1", features=["reports"])
    limited = await h.client.get(path, headers={"Authorization": f"Bearer {reports_only.token}"})
    assert [s["suggestion_key"] for s in limited.json()["suggestions"]] == ["growth"]  # seats unseen
    other = await h.client.get(path, headers=h.headers("read", account_id="acct-2"))
    assert other.status_code == 403
    # a plan change supersedes what was suggested before it
    await h.call("POST", f"/v1/licenses/{license['id']}/plan", {"plan_key": "growth"}, status=200)
    assert (await h.call("GET", path))["suggestions"] == []


async def _account(h: Any, account: str, september: int, october: int, term_end: str = "2027-01-01") -> None:
    await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": account, "plan_key": "starter", "term_start": "2026-01-01", "term_end": term_end},
    )
    await h.produce(
        [h.usage(account, at=datetime(2026, 9, 10, tzinfo=UTC)) for _ in range(september)]
        + [h.usage(account, at=datetime(2026, 10, 10, tzinfo=UTC)) for _ in range(october)]
    )
    await counted(h, account, "2026-09-01", "2026-10-31", september + october)


async def test_renewal_at_risk_fires_on_a_decline_and_not_on_noise(service: Any) -> None:
    h = service
    h.clock.set(datetime(2026, 9, 1, tzinfo=UTC))
    await h.provision(account="acct-0", limit=1000)
    await _account(h, "declining", 100, 55)  # -45 %, renewing in 2 months
    await _account(h, "noisy", 10, 2)  # -80 %, but only 10 uses: under the noise floor
    await _account(h, "steady", 100, 90)  # -10 %
    await _account(h, "far", 100, 40, term_end="2027-11-01")  # -60 %, renewal a year away
    h.clock.set(datetime(2026, 11, 2, 6, tzinfo=UTC))  # October is over (and settled)

    [risk] = await h.wait_events(1, TOPIC, RISK)
    data = risk.data
    assert (data.account_id, data.renewal_date.isoformat(), data.decline_percent, data.period) == (
        "declining",
        "2027-01-01",
        45.0,
        "month",
    )
    [evidence] = data.evidence
    assert (evidence.feature_key, evidence.previous_usage, evidence.usage) == ("reports", 100, 55)
    assert (evidence.previous_period_start.month, evidence.period_start.month) == (9, 10)
    assert evidence.detail == "fell 45 % from 100 to 55"
    await run_lifecycle(h.app.state.container)  # evaluated once per period: not repeated
    await h.relay_idle()
    assert [e.data.account_id for e in await h.events(TOPIC, RISK)] == ["declining"]
    rows = await h.sql(
        "SELECT account_id, payload IS NOT NULL AS fired FROM signal_marks WHERE signal = 'renewal_risk'"
    )
    assert sorted((r["account_id"], r["fired"]) for r in rows) == [
        ("acct-0", False),
        ("declining", True),
        ("noisy", False),
        ("steady", False),
    ]
