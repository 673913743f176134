"""Milestone rules admin API: versions, enable/disable, pagination, validation, scopes, CORS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken

pytestmark = pytest.mark.integration

CHAMPION: dict[str, Any] = {
    "key": "champion",
    "name": "Champion",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 100, "unit_label": "reports"},
    "reward": {"kind": "credits", "credits": "50.00", "credits_expire_days": 90},
}


def revision(**changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in CHAMPION.items() if k != "key"}
    return {**body, **changes}


async def test_a_rule_is_versioned_on_change_and_enabled_without_a_new_version(
    rewards: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await rewards.post("/v1/milestones", json=CHAMPION, headers=admin)
    assert created.status_code == 201, created.text
    v1 = created.json()
    assert (v1["version"], v1["enabled"], v1["repeat"]) == (1, True, "once")

    again = await rewards.put("/v1/milestones/champion", json=revision(), headers=admin)
    assert again.json()["version"] == 1, "an identical definition is not a new version"

    higher = await rewards.put(
        "/v1/milestones/champion",
        json=revision(params={**CHAMPION["params"], "target": 200}),
        headers=admin,
    )
    v2 = higher.json()
    assert v2["version"] == 2 and v2["progress_series"] == v1["progress_series"], (
        "same counting keeps progress"
    )

    other_usage = await rewards.put(
        "/v1/milestones/champion",
        json=revision(params={"usage_type": "export.done", "target": 5}),
        headers=admin,
    )
    v3 = other_usage.json()
    assert v3["version"] == 3 and v3["progress_series"] != v1["progress_series"]

    disabled = await rewards.post("/v1/milestones/champion/disable", headers=admin)
    assert (disabled.json()["enabled"], disabled.json()["version"]) == (False, 3)
    listed = await rewards.get("/v1/milestones", params={"enabled": "false"}, headers=admin)
    assert [r["key"] for r in listed.json()["items"]] == ["champion"]
    assert (await rewards.post("/v1/milestones/champion/enable", headers=admin)).json()["enabled"] is True

    versions = await rewards.get("/v1/milestones/champion/versions", params={"limit": 2}, headers=admin)
    assert versions.json()["total"] == 3 and [v["version"] for v in versions.json()["items"]] == [3, 2]
    first = await rewards.get("/v1/milestones/champion/versions/1", headers=admin)
    assert first.json()["params"]["target"] == 100


async def test_every_rule_kind_can_be_created_and_listed_page_by_page(
    rewards: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    bodies = [
        CHAMPION,
        {
            "key": "daily-habit",
            "name": "Daily habit",
            "kind": "streak",
            "params": {"mode": "consecutive_days", "days": 7},
            "reward": {"kind": "custom", "name": "Habit badge", "description": "Seven days in a row"},
            "repeat": "per_period",
            "repeat_period": "month",
        },
        {
            "key": "rollout",
            "name": "Rollout",
            "kind": "adoption",
            "params": {"percent": 80, "window_days": 30, "min_seats": 5},
            "reward": {"kind": "support_level", "support_level": "premium", "duration_days": 30},
        },
        {
            "key": "loyal",
            "name": "Loyal",
            "kind": "anniversary",
            "params": {"years": 1},
            "reward": {"kind": "credits", "credits": "20"},
            "repeat": "per_period",
        },
        {
            "key": "quick-start",
            "name": "Quick start",
            "kind": "time_to_value",
            "params": {"usage_type": "report.generated", "days": 14, "target": 3},
            "reward": {"kind": "early_access", "feature_key": "ai-insights", "duration_days": 60},
        },
    ]
    for body in bodies:
        response = await rewards.post("/v1/milestones", json=body, headers=admin)
        assert response.status_code == 201, response.text
    page = (await rewards.get("/v1/milestones", params={"limit": 2, "offset": 2}, headers=admin)).json()
    assert page["total"] == 5 and [r["key"] for r in page["items"]] == ["loyal", "quick-start"]


@pytest.mark.parametrize(
    "body",
    [
        {**CHAMPION, "kind": "streak"},  # params of another kind
        {**CHAMPION, "repeat": "per_period"},  # a lifetime threshold cannot repeat
        {**CHAMPION, "params": {"usage_type": "x", "target": 0}},
        {**CHAMPION, "reward": {"kind": "early_access", "feature_key": "f"}},  # no duration
        {**CHAMPION, "reward": {"kind": "credits", "credits": "1.234"}},
        {**CHAMPION, "key": "Not A Key"},
        {
            **CHAMPION,
            "kind": "streak",
            "params": {"mode": "days_in_weeks", "days": 3},  # no weeks
        },
    ],
)
async def test_bad_rules_are_refused_with_a_problem(
    rewards: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    response = await rewards.post("/v1/milestones", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_duplicates_unknown_rules_and_scopes(
    rewards: httpx.AsyncClient, admin: dict[str, str], issue_token: IssueToken, tenant_id: str
) -> None:
    assert (await rewards.post("/v1/milestones", json=CHAMPION, headers=admin)).status_code == 201
    assert (await rewards.post("/v1/milestones", json=CHAMPION, headers=admin)).status_code == 409
    assert (await rewards.get("/v1/milestones/nope", headers=admin)).status_code == 404
    assert (await rewards.put("/v1/milestones/nope", json=revision(), headers=admin)).status_code == 404
    reader = {"Authorization": f"Bearer {issue_token(tenant_id, 'read')}"}
    assert (await rewards.post("/v1/milestones", json=CHAMPION, headers=reader)).status_code == 403
    assert (await rewards.get("/v1/milestones")).status_code == 401
    other_tenant = {"Authorization": f"Bearer {issue_token('someone-else', 'admin')}"}
    assert (await rewards.get("/v1/milestones/champion", headers=other_tenant)).status_code == 404


async def test_account_time_zone_is_validated(rewards: httpx.AsyncClient, admin: dict[str, str]) -> None:
    ok = await rewards.put("/v1/accounts/a1/settings", json={"time_zone": "Europe/Berlin"}, headers=admin)
    assert ok.status_code == 200
    bad = await rewards.put("/v1/accounts/a1/settings", json={"time_zone": "Mars/Olympus"}, headers=admin)
    assert bad.status_code == 422


async def test_browser_apps_on_configured_origins_may_call_the_api(rewards: httpx.AsyncClient) -> None:
    preflight = await rewards.options(
        "/v1/accounts/a1/balance",
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://portal.example"
    other = await rewards.options(
        "/v1/accounts/a1/balance",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers
