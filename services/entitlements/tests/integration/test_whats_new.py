"""What's new at renewal: an account on an older plan version is told, in plain language,
what the latest published version adds (a feature, a raised limit, the feature's benefit),
and which reward benefits it was granted during its term; an account already on the latest
version is told of no plan changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_schemas.rewards import RewardGranted

pytestmark = pytest.mark.integration


async def whats_new(h: Any, account: str, *, status: int = 200, locale: str | None = None) -> dict[str, Any]:
    response = await h.client.get(
        f"/v1/accounts/{account}/whats-new",
        params={"locale": locale} if locale else None,
        headers=h.headers("read", account_id=account),
    )
    assert response.status_code == status, response.text
    return dict(response.json())


async def test_whats_new_lists_the_latest_versions_changes_and_the_terms_reward_benefits(
    service: Any,
) -> None:
    h = service
    await h.provision("acct-old", limit=10)  # starter v1: reports up to 10, support, seats
    # v2: single sign-on added (a feature, and its benefit from the catalog), reports up to 50
    v2 = {
        "key": "starter",
        "name": "Starter",
        "features": {
            "reports": {"limit": 50, "hard": True},
            "support": {"config": "standard"},
            "seats": {},
            "sso": {},
        },
    }
    created = await h.call("POST", "/v1/plans", v2)
    assert created["version"] == 2, created
    await h.call("POST", "/v1/plans/starter/versions/2/publish")
    await h.call(
        "POST",
        "/v1/licenses",
        {
            "account_id": "acct-new",
            "plan_key": "starter",
            "term_start": "2026-01-01",
            "term_end": "2027-01-01",
            "seats": 3,
        },
    )

    # during the term, a reward grants early access to single sign-on; an admin's manual grant
    # is no reward and is not listed
    ends = h.clock.now() + timedelta(days=30)
    early = RewardGranted(
        tenant_id=h.tenant,
        account_id="acct-old",
        reward_id="r-early",
        rule_id="champion",
        kind="early_access",
        feature_key="sso",
        ends_at=ends,
    )
    await h.produce([h.record(early)])
    manual = {"feature_key": "sso", "expires_at": ends.isoformat()}
    await h.call("POST", "/v1/accounts/acct-old/grants", manual)

    async def rewarded() -> dict[str, Any]:
        found = await whats_new(h, "acct-old")
        assert found["reward_benefits"], found
        return found

    old = await eventually(rewarded)
    assert (old["plan_key"], old["plan_version"], old["latest_version"]) == ("starter", 1, 2)
    assert [(c["kind"], c["feature_key"], c["text"]) for c in old["changes"]] == [
        ("limit_raised", "reports", "Reports: limit raised from 10 to 50."),
        ("feature_added", "sso", "New in Starter: Single sign-on."),
        ("benefit_added", "sso", "Single sign-on: One login for everyone."),
    ]
    assert [(b["feature_key"], b["text"]) for b in old["reward_benefits"]] == [
        ("sso", "Earned through rewards: Single sign-on.")
    ]
    # in German for a German reader (names and outcomes are the catalog's)
    german = await whats_new(h, "acct-old", locale="de")
    assert [c["text"] for c in german["changes"]] == [
        "Reports: Limit erhöht von 10 auf 50.",
        "Neu in Starter: Single sign-on.",
        "Single sign-on: One login for everyone.",
    ]
    assert [b["text"] for b in german["reward_benefits"]] == ["Durch Prämien erhalten: Single sign-on."]

    new = await whats_new(h, "acct-new")
    assert (new["plan_version"], new["latest_version"]) == (2, 2)
    assert new["changes"] == [] and new["reward_benefits"] == []


async def test_whats_new_for_an_account_without_a_license_is_a_404_problem(service: Any) -> None:
    h = service
    await h.provision("acct-1")
    problem = await whats_new(h, "acct-none", status=404)
    assert problem["status"] == 404 and problem["title"], problem
