"""The usage report's cohort percentile: only for cohorts of 5 or more, anonymous."""

from __future__ import annotations

from typing import Any

import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration
RANGE = "from=2026-11-01&to=2026-11-30&granularity=month"


async def add_account(h: Any, account: str, reports: int, plan: str = "starter") -> None:
    await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": account, "plan_key": plan, "term_start": "2026-01-01", "term_end": "2027-01-01"},
    )
    await h.produce([h.usage(account) for _ in range(reports)])

    async def counted() -> None:
        assert (await h.check(account, "reports"))["usage"] == reports

    await eventually(counted)


async def report(h: Any) -> tuple[dict[str, Any], str]:
    own = h.headers("read", account_id="acct-1")
    response = await h.client.get(f"/v1/accounts/acct-1/usage?{RANGE}", headers=own)
    assert response.status_code == 200, response.text
    return response.json()["features"][0], response.text


async def test_the_percentile_is_withheld_for_a_cohort_of_4_and_shown_for_5(service: Any) -> None:
    h = service
    await h.provision(limit=1000)
    await h.call("POST", "/v1/plans", {"key": "pro", "name": "Pro", "features": {"reports": {"limit": 5000}}})
    await h.call("POST", "/v1/plans/pro/versions/1/publish")
    await h.produce([h.usage("acct-1") for _ in range(30)])

    async def counted() -> None:
        assert (await h.check("acct-1", "reports"))["usage"] == 30

    await eventually(counted)
    for account, count in (("acct-2", 10), ("acct-3", 20), ("acct-4", 40)):
        await add_account(h, account, count)
    await add_account(h, "on-pro", 500, plan="pro")  # another plan: another cohort
    revoked = await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": "gone", "plan_key": "starter", "term_start": "2026-01-01", "term_end": "2027-01-01"},
    )
    await h.call("POST", f"/v1/licenses/{revoked['id']}/revoke", {})  # no access: not in the cohort

    reports, _ = await report(h)
    assert reports["total"] == 30 and reports["cohort"] is None  # 4 accounts on starter

    await add_account(h, "acct-5", 60)
    reports, body = await report(h)
    assert reports["cohort"] == {
        "plan_key": "starter",
        "plan_name": "Starter",
        "percentile": 50.0,
        "minimum_cohort_size": 5,
    }
    for other in ("acct-2", "acct-3", "acct-4", "acct-5", "on-pro", "gone"):
        assert other not in body  # no other account's identity …
    for value in ("10", "20", "40", "60", "500"):
        assert f":{value}," not in body and f":{value}." not in body  # … nor their figures

    await h.call("PUT", "/v1/settings/lifecycle", {"cohort_min_size": 6})
    assert (await report(h))[0]["cohort"] is None
    await h.call("PUT", "/v1/settings/lifecycle", {"key_features": []})  # no key feature: no cohort
    assert (await report(h))[0]["cohort"] is None
    too_small = await h.client.put("/v1/settings/lifecycle", json={"cohort_min_size": 4}, headers=h.headers())
    assert too_small.status_code == 422
