"""The audit log over every admin route of every service, discovered from their OpenAPI.

A tenant is seeded through the APIs; then every operation that changes state (POST, PUT,
PATCH, DELETE) and requires the admin scope is performed by a named admin credential, and
its `GET /v1/audit` must show the change: the actor (credential id and name), the route, the
table changed with the row before and after, the time of the service's clock — and secrets
masked. An admin route without a step in STEPS fails the test, and so does one whose change
the log does not show: a new admin route is covered (or fails) without editing this test
first. Then: a refused change leaves no entry (the entry is in the change's transaction),
cursor pages and filters, CSV and NDJSON exports, and only admins read the log.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.scenario import term_around
from tangible_runtime.auth import TokenIssuer

pytestmark = pytest.mark.integration

THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
TERM = term_around(datetime.now(UTC))  # the services run on the wall clock
RULE = {
    "name": "Audited rule",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 5},
    "reward": {"kind": "credits", "credits": "1"},
}
ACTOR_NAME = "Ops console"
# a replay window before any usage: the replay is audited, and nothing is replayed
NOTHING_TO_REPLAY = {
    "since": (datetime.now(UTC) - timedelta(days=3650)).isoformat(),
    "until": (datetime.now(UTC) - timedelta(days=3649)).isoformat(),
}


@dataclass(frozen=True)
class Step:
    """One admin change: `path` filled from the seeded ids and `made` (ids the steps before
    returned, by `{name}`); `tables`: what the log must show changed (one of them at least);
    empty for an operation that changes nothing (it must log nothing); `keep`: a field of
    the response to remember as `made[keep[1]]`."""

    path: str
    body: Any = None
    tables: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    keep: tuple[str, str] | None = None
    action: str | None = None  # logged as an action (`tables`: its subject)


# (service, method, path as documented) → how to perform it; performed in this order.
STEPS: dict[tuple[str, str, str], Step] = {
    ("entitlements", "POST", "/v1/features"): Step(
        "/v1/features",
        {"key": "audited", "name": "Audited", "kind": "boolean", "outcome": "x"},
        ("features",),
    ),
    ("entitlements", "PATCH", "/v1/features/{key}"): Step(
        "/v1/features/audited", {"name": "Audited, renamed"}, ("features",)
    ),
    ("entitlements", "POST", "/v1/plans"): Step(
        "/v1/plans", {"key": "audited-plan", "name": "Audited plan"}, ("catalog_items",)
    ),
    ("entitlements", "PATCH", "/v1/plans/{key}/versions/{version}"): Step(
        "/v1/plans/audited-plan/versions/1", {"name": "Renamed plan"}, ("catalog_items",)
    ),
    ("entitlements", "POST", "/v1/plans/{key}/versions/{version}/publish"): Step(
        "/v1/plans/audited-plan/versions/1/publish", None, ("catalog_items",)
    ),
    ("entitlements", "POST", "/v1/addons"): Step(
        "/v1/addons", {"key": "audited-addon", "name": "Audited addon"}, ("catalog_items",)
    ),
    ("entitlements", "PATCH", "/v1/addons/{key}/versions/{version}"): Step(
        "/v1/addons/audited-addon/versions/1", {"name": "Renamed addon"}, ("catalog_items",)
    ),
    ("entitlements", "POST", "/v1/addons/{key}/versions/{version}/publish"): Step(
        "/v1/addons/audited-addon/versions/1/publish", None, ("catalog_items",)
    ),
    ("entitlements", "POST", "/v1/licenses"): Step(
        "/v1/licenses",
        {"account_id": "acct-audited", "plan_key": "starter", "term_start": TERM[0], "term_end": TERM[1]},
        ("licenses",),
        keep=("id", "new_license"),
    ),
    ("entitlements", "POST", "/v1/imports/licenses"): Step(
        "/v1/imports/licenses",
        {
            "licenses": [
                {
                    "account_id": "acct-imported",
                    "plan_key": "starter",
                    "term_start": TERM[0],
                    "term_end": TERM[1],
                }
            ]
        },
        ("licenses",),
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/renew"): Step(
        "/v1/licenses/{new_license}/renew", {"reason": "renewed"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/plan"): Step(
        "/v1/licenses/{new_license}/plan", {"plan_key": "audited-plan"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/addons"): Step(
        "/v1/licenses/{new_license}/addons", {"addon_key": "audited-addon"}, ("licenses",)
    ),
    ("entitlements", "DELETE", "/v1/licenses/{license_id}/addons/{addon_key}"): Step(
        "/v1/licenses/{new_license}/addons/audited-addon", None, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/seats"): Step(
        "/v1/licenses/{new_license}/seats", {"user_id": "u-audited"}, ("seat_assignments",)
    ),
    ("entitlements", "DELETE", "/v1/licenses/{license_id}/seats/{user_id}"): Step(
        "/v1/licenses/{new_license}/seats/u-audited", None, ("seat_assignments",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/trials"): Step(
        "/v1/licenses/{new_license}/trials",
        {"target_kind": "addon", "target_key": "extra", "days": 3},
        ("trials",),
        keep=("id", "trial_a"),
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/trials/{trial_id}/cancel"): Step(
        "/v1/licenses/{new_license}/trials/{trial_a}/cancel", {"reason": "no"}, ("trials",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/trials/{trial_id}/convert"): Step(
        "/v1/licenses/{license_id}/trials/{trial_id}/convert", {"reason": "yes"}, ("trials",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/suspend"): Step(
        "/v1/licenses/{new_license}/suspend", {"reason": "unpaid"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/reinstate"): Step(
        "/v1/licenses/{new_license}/reinstate", {"reason": "paid"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/revoke"): Step(
        "/v1/licenses/{new_license}/revoke", {"reason": "fraud"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/licenses/{license_id}/restore"): Step(
        "/v1/licenses/{new_license}/restore", {"reason": "mistake"}, ("licenses",)
    ),
    ("entitlements", "POST", "/v1/accounts/{account_id}/grants"): Step(
        "/v1/accounts/{account_id}/grants",
        {"feature_key": "support", "value": "audited"},
        ("grants",),
        keep=("id", "grant"),
    ),
    ("entitlements", "DELETE", "/v1/accounts/{account_id}/grants/{grant_id}"): Step(
        "/v1/accounts/{account_id}/grants/{grant}", None, ("grants",)
    ),
    ("entitlements", "PUT", "/v1/settings/lifecycle"): Step(
        "/v1/settings/lifecycle", {"trial_max_days": 31}, ("tenant_settings",)
    ),
    ("entitlements", "POST", "/v1/credentials"): Step(
        "/v1/credentials", {"name": "Audited key", "scopes": ["read"]}, ("credentials",), keep=("id", "key")
    ),
    ("entitlements", "POST", "/v1/credentials/{credential_id}/revoke"): Step(
        "/v1/credentials/{key}/revoke", None, ("credentials",)
    ),
    ("entitlements", "POST", "/v1/plans/{key}/versions/{version}/retire"): Step(
        "/v1/plans/audited-plan/versions/1/retire", None, ("catalog_items",)
    ),
    ("entitlements", "POST", "/v1/addons/{key}/versions/{version}/retire"): Step(
        "/v1/addons/audited-addon/versions/1/retire", None, ("catalog_items",)
    ),
    ("rewards", "POST", "/v1/milestones"): Step(
        "/v1/milestones", {"key": "audited-rule", **RULE}, ("milestones", "milestone_rules")
    ),
    ("rewards", "PUT", "/v1/milestones/{key}"): Step(
        "/v1/milestones/audited-rule", {**RULE, "name": "Audited rule v2"}, ("milestone_rules",)
    ),
    ("rewards", "POST", "/v1/milestones/{key}/disable"): Step(
        "/v1/milestones/audited-rule/disable", None, ("milestones",)
    ),
    ("rewards", "POST", "/v1/milestones/{key}/enable"): Step(
        "/v1/milestones/audited-rule/enable", None, ("milestones",)
    ),
    ("rewards", "PUT", "/v1/accounts/{account_id}/settings"): Step(
        "/v1/accounts/{account_id}/settings", {"time_zone": "America/New_York"}, ("account_profiles",)
    ),
    ("rewards", "POST", "/v1/accounts/{account_id}/redemptions"): Step(
        "/v1/accounts/{account_id}/redemptions",
        {"amount": "1"},
        ("ledger_transactions",),
        headers={"Idempotency-Key": "audited-redemption"},
    ),
    ("rewards", "POST", "/v1/accounts/{account_id}/adjustments"): Step(
        "/v1/accounts/{account_id}/adjustments",
        {"amount": "-1", "reason": "audited"},
        ("ledger_transactions",),
    ),
    ("rewards", "POST", "/v1/accounts/{account_id}/rewards/{reward_id}/void"): Step(
        "/v1/accounts/{account_id}/rewards/{reward_id}/void", {"reason": "audited"}, ("rewards",)
    ),
    ("rewards", "POST", "/v1/catalog/items"): Step(
        "/v1/catalog/items", {"key": "audited-item", "name": "Mug", "price": "1"}, ("catalog_items",)
    ),
    ("rewards", "PATCH", "/v1/catalog/items/{key}"): Step(
        "/v1/catalog/items/audited-item", {"stock": 1}, ("catalog_items",)
    ),
    ("notifications", "POST", "/v1/channels"): Step(
        "/v1/channels",
        {"kind": "webhook", "name": "Audited hook", "url": "http://127.0.0.1:9/audited"},
        ("channels", "channel_secrets"),
        keep=("id", "channel"),
    ),
    ("notifications", "PATCH", "/v1/channels/{channel_id}"): Step(
        "/v1/channels/{channel}", {"enabled": False}, ("channels",)
    ),
    ("notifications", "POST", "/v1/channels/{channel_id}/secret/rotate"): Step(
        "/v1/channels/{channel}/secret/rotate", {"overlap_hours": 1}, ("channel_secrets",)
    ),
    ("notifications", "POST", "/v1/deliveries/{delivery_id}/resend"): Step(
        "/v1/deliveries/{delivery_id}/resend", None, ("deliveries",)
    ),
    ("notifications", "POST", "/v1/rules"): Step(
        "/v1/rules",
        {"name": "Audited", "event_types": [THRESHOLD], "channels": ["inbox"]},
        ("notification_rules",),
        keep=("id", "rule"),
    ),
    ("notifications", "PUT", "/v1/rules/{rule_id}"): Step(
        "/v1/rules/{rule}",
        {"name": "Audited v2", "event_types": [THRESHOLD], "channels": ["inbox"]},
        ("notification_rules",),
    ),
    ("notifications", "PUT", "/v1/templates/{event_type}/{channel}"): Step(
        f"/v1/templates/{THRESHOLD}/email", {"title": "Audited"}, ("templates",)
    ),
    ("notifications", "DELETE", "/v1/templates/{event_type}/{channel}"): Step(
        f"/v1/templates/{THRESHOLD}/email", None, ("templates",)
    ),
    # renders a template against example data: reads, changes nothing, logs nothing
    ("notifications", "POST", "/v1/templates/preview"): Step(
        "/v1/templates/preview", {"event_type": THRESHOLD}
    ),
    ("notifications", "PUT", "/v1/report-template"): Step(
        "/v1/report-template", {"primary_color": "#112233", "sections": ["usage"]}, ("report_templates",)
    ),
    # renders a sample report: reads, changes nothing, logs nothing
    ("notifications", "POST", "/v1/report-template/preview"): Step(
        "/v1/report-template/preview", {"locale": "de"}
    ),
    ("notifications", "DELETE", "/v1/report-template"): Step(
        "/v1/report-template", None, ("report_templates",)
    ),
    ("notifications", "PUT", "/v1/settings"): Step(
        "/v1/settings", {"inbox_enabled": False}, ("tenant_settings",)
    ),
    # read-scope routes an admin may also use: preferences set by admins are audited too
    ("notifications", "PUT", "/v1/accounts/{account_id}/preferences"): Step(
        "/v1/accounts/{account_id}/preferences", {"email": "audited@example.com"}, ("preferences",)
    ),
    ("notifications", "PUT", "/v1/accounts/{account_id}/users/{user_id}/preferences"): Step(
        "/v1/accounts/{account_id}/users/{user_id}/preferences", {"email": "u@example.com"}, ("preferences",)
    ),
    ("entitlements", "POST", "/v1/dead-letters/{consumer}/replay"): Step(
        "/v1/dead-letters/entitlements-usage/replay",
        NOTHING_TO_REPLAY,
        ("dead-letters/entitlements-usage",),
        action="dlq_replay",
    ),
    ("rewards", "POST", "/v1/dead-letters/{consumer}/replay"): Step(
        "/v1/dead-letters/rewards-usage/replay",
        NOTHING_TO_REPLAY,
        ("dead-letters/rewards-usage",),
        action="dlq_replay",
    ),
    ("notifications", "POST", "/v1/dead-letters/{consumer}/replay"): Step(
        "/v1/dead-letters/notifications-events/replay",
        NOTHING_TO_REPLAY,
        ("dead-letters/notifications-events",),
        action="dlq_replay",
    ),
}


def admin_routes(started: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Every operation that changes state and requires the admin scope, from the documents."""
    found = set()
    for name, service in started.items():
        for path, item in service.app.openapi()["paths"].items():
            for method, operation in item.items():
                scopes = {s for r in operation.get("security") or [] for s in r.get("bearer", [])}
                if method.upper() in ("POST", "PUT", "PATCH", "DELETE") and "admin" in scopes:
                    found.add((name, method.upper(), path))
    return found


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"unfilled: {path}"
    return path


async def audit(client: httpx.AsyncClient, token: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit", params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_admin_change_is_in_the_audit_log(
    start_system: Any,
    started_services: dict[str, Any],
    seed: Any,
    notifications_overrides: dict[str, Any],
    token_issuer: TokenIssuer,
    tenant_id: str,
) -> None:
    system = await start_system(overrides={"notifications": notifications_overrides})
    seeded = await seed(system, tenant_id, "aud1t")
    missing = sorted(admin_routes(started_services) - set(STEPS))
    assert not missing, f"admin routes without a step in STEPS (and so without an audit check): {missing}"

    credential = token_issuer.issue(tenant_id=tenant_id, scopes=["admin"], name=ACTOR_NAME)
    headers = {"Authorization": f"Bearer {credential.token}"}
    ids = {
        **{k: v for k, v in seeded.ids.items() if "." not in k},
        "trial_id": seeded.ids["trial_id"],
    }
    started = datetime.now(UTC) - timedelta(seconds=5)
    for (service, method, route), step in STEPS.items():
        client = started_services[service].client
        where = f"{service} {method} {route}"
        response = await client.request(
            method, fill(step.path, ids), json=step.body, headers={**headers, **step.headers}
        )
        assert response.status_code < 300, f"{where}: {response.status_code} {response.text}"
        if step.keep is not None:
            ids[step.keep[1]] = response.json()[step.keep[0]]
        logged = await audit(client, credential.token, route=route, actor=credential.credential_id)
        entries = [e for e in logged if e["method"] == method]  # PUT and DELETE share a route
        if not step.tables:
            assert entries == [], f"{where} changes nothing, yet logged {entries}"
            continue
        assert {e["table"] for e in entries} & set(step.tables), f"{where}: not logged: {entries}"
        for entry in entries:
            assert entry["actor_id"] == credential.credential_id and entry["actor_name"] == ACTOR_NAME, entry
            assert entry["method"] == method and entry["route"] == route, entry
            assert started <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC), entry
            assert entry["operation"] in ("insert", "update", "delete", step.action), entry
            assert entry["before"] is not None or entry["after"] is not None, entry
            if entry["operation"] == "update":
                assert entry["before"] != entry["after"], entry

    notifications = started_services["notifications"].client
    secrets = await audit(notifications, credential.token, table="channel_secrets")
    assert secrets and all((e["after"] or e["before"])["ciphertext"] == "***" for e in secrets), (
        "secrets are masked"
    )
    assert seeded.webhook_secret not in json.dumps(await audit(notifications, credential.token))

    # the entry is written in the change's transaction: a refused change leaves none
    entitlements = started_services["entitlements"].client
    before = await audit(entitlements, credential.token, route="/v1/features")
    refused = await entitlements.post(
        "/v1/features",
        json={"key": "audited", "name": "Again", "kind": "boolean", "outcome": "x"},
        headers=headers,
    )
    assert refused.status_code == 409, refused.text
    assert await audit(entitlements, credential.token, route="/v1/features") == before

    # consumers' changes (usage → counters, rewards) are not admin changes: every entry has an
    # admin actor, the seeding one's or ours
    every = await audit(started_services["rewards"].client, credential.token, limit="500")
    assert every and all(e["actor_id"] and e["route"].startswith("/v1/") for e in every)
    assert {e["table"] for e in every} >= {"milestones", "ledger_transactions", "catalog_items"}


async def test_the_audit_log_pages_filters_and_exports(
    start_system: Any,
    started_services: dict[str, Any],
    token_issuer: TokenIssuer,
    tenant_id: str,
) -> None:
    await start_system()
    client = started_services["entitlements"].client
    first = token_issuer.issue(tenant_id=tenant_id, scopes=["admin"], name="First admin")
    second = token_issuer.issue(tenant_id=tenant_id, scopes=["admin"], name="Second admin")
    for n in range(5):
        token = first if n % 2 == 0 else second
        response = await client.post(
            "/v1/features",
            json={"key": f"f{n}", "name": f"F{n}", "kind": "boolean", "outcome": "x"},
            headers={"Authorization": f"Bearer {token.token}"},
        )
        assert response.status_code == 201, response.text
    admin = {"Authorization": f"Bearer {first.token}"}

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/audit", params=params, headers=admin)).json()
        assert len(page["items"]) <= 2 and page["limit"] == 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True), "newest first, each once"

    by_name = await audit(client, first.token, actor="Second admin")
    assert [e["after"]["key"] for e in by_name] == ["f3", "f1"]
    assert len(await audit(client, first.token, table="features")) == 5
    assert await audit(client, first.token, table="licenses") == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await audit(client, first.token, **{"from": future}) == []
    assert len(await audit(client, first.token, to=future)) == 5

    ndjson = await client.get("/v1/audit/export", params={"format": "ndjson"}, headers=admin)
    assert ndjson.status_code == 200 and ndjson.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["after"]["key"] for line in lines] == ["f0", "f1", "f2", "f3", "f4"], "oldest first"
    exported = await client.get("/v1/audit/export", params={"actor": first.credential_id}, headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [json.loads(row["after"])["key"] for row in rows] == ["f0", "f2", "f4"]
    assert {row["actor_name"] for row in rows} == {"First admin"}

    bad = await client.get("/v1/audit", params={"cursor": "not-a-cursor!"}, headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    reader = token_issuer.issue(tenant_id=tenant_id, scopes=["read"]).token
    refused = await client.get("/v1/audit", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    other = token_issuer.issue(tenant_id=f"{tenant_id}-other", scopes=["admin"]).token
    assert await audit(client, other) == [], "another tenant sees none of it"
