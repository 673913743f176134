"""Catalog on real PostgreSQL and Kafka: versions, immutability, licenses keep their version."""

from __future__ import annotations

from typing import Any

import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration


async def test_publishing_a_new_version_does_not_change_existing_licenses(service: Any) -> None:
    h = service
    license = await h.provision(limit=10)
    await h.call(
        "POST", "/v1/plans", {"key": "starter", "name": "Starter 2", "features": {"reports": {"limit": 50}}}
    )
    edited = await h.call("PATCH", "/v1/plans/starter/versions/2", {"features": {"reports": {"limit": 100}}})
    assert (edited["version"], edited["status"], edited["features"]["reports"]["limit"]) == (2, "draft", 100)
    await h.call("POST", "/v1/plans/starter/versions/2/publish")

    # published versions are immutable
    conflict = await h.client.patch("/v1/plans/starter/versions/2", json={"name": "x"}, headers=h.headers())
    assert conflict.status_code == 409 and conflict.json()["type"].endswith("catalog-item-immutable")
    again = await h.client.post("/v1/plans/starter/versions/1/publish", headers=h.headers())
    assert again.status_code == 409

    # the existing license keeps version 1 (in its record and in checks) …
    assert (await h.call("GET", f"/v1/licenses/{license['id']}"))["plan_version"] == 1
    check = await h.check("acct-1", "reports")
    assert check["limit"] == 10 and check["sources"][0]["version"] == 1
    # … while a new license gets the latest published version
    other = await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": "acct-2", "plan_key": "starter", "term_start": "2026-01-01", "term_end": "2027-01-01"},
    )
    assert other["plan_version"] == 2

    # an explicit migration moves it, and is recorded
    await h.call(
        "POST",
        f"/v1/licenses/{license['id']}/plan",
        {"plan_key": "starter", "plan_version": 2, "reason": "migration"},
    )
    history = await h.call("GET", f"/v1/licenses/{license['id']}/history")
    assert [e["action"] for e in history["items"]] == ["created", "plan_changed_now"]
    assert (
        history["items"][1]["before"]["plan_version"] == 1
        and history["items"][1]["after"]["plan_version"] == 2
    )
    assert history["items"][1]["reason"] == "migration" and history["items"][1]["actor"].startswith(
        "credential:"
    )


async def test_renewal_moves_to_the_latest_version_and_a_pending_plan(service: Any) -> None:
    h = service
    license = await h.provision()
    await h.call(
        "POST",
        "/v1/plans",
        {"key": "pro", "name": "Pro", "features": {"reports": {"limit": 1000}, "sso": {}}},
    )
    await h.call("POST", "/v1/plans/pro/versions/1/publish")
    pending = await h.call(
        "POST", f"/v1/licenses/{license['id']}/plan", {"plan_key": "pro", "effective": "at_renewal"}
    )
    assert (pending["plan_key"], pending["pending_plan_key"]) == ("starter", "pro")
    assert (await h.check("acct-1", "sso"))["has_access"] is False
    renewed = await h.call("POST", f"/v1/licenses/{license['id']}/renew", {"reason": "annual"})
    assert (renewed["plan_key"], renewed["pending_plan_key"]) == ("pro", None)
    assert (renewed["term_start"], renewed["term_end"]) == ("2027-01-01", "2028-01-01")

    async def upgraded() -> None:
        assert (await h.check("acct-1", "sso"))["has_access"] is True

    await eventually(upgraded)
    changed = await h.wait_events(
        1, "tangible.entitlements.v1", "tangible.entitlements.v1.license_plan_changed"
    )
    renewals = await h.wait_events(1, "tangible.entitlements.v1", "tangible.entitlements.v1.license_renewed")
    assert [e.data.effective for e in changed] == ["at_renewal"]
    assert [e.data.term_end.isoformat() for e in renewals] == ["2028-01-01"]


async def test_catalog_reads_are_paginated_and_the_glossary_is_plain_language(service: Any) -> None:
    h = service
    await h.provision()
    await h.call("POST", "/v1/plans", {"key": "starter", "name": "Starter 2"})
    await h.call(
        "POST", "/v1/addons", {"key": "extra", "name": "Extra reports", "features": {"reports": {"limit": 5}}}
    )
    versions = await h.call("GET", "/v1/plans/starter/versions?limit=1")
    assert (versions["total"], [v["version"] for v in versions["items"]]) == (2, [2])
    plans = await h.call("GET", "/v1/plans")
    assert [(p["key"], p["version"]) for p in plans["items"]] == [("starter", 2)]
    assert (await h.call("GET", "/v1/plans/starter"))["version"] == 1  # the latest *published*
    assert (await h.call("GET", "/v1/addons"))["items"][0]["status"] == "draft"
    features = await h.call("GET", "/v1/features?limit=2&offset=1")
    assert features["total"] == 4 and len(features["items"]) == 2
    glossary = await h.call("GET", "/v1/glossary")
    reports = next(e for e in glossary["items"] if e["feature_key"] == "reports")
    assert reports == {
        "feature_key": "reports",
        "name": "Reports",
        "kind": "metered",
        "outcome": "Board-ready reports in one click",
        "impact_metric": "hours saved",
        "impact_per_unit": 0.25,
        "unit": "report.generated",
    }
    patched = await h.call("PATCH", "/v1/features/reports", {"outcome": "Reports your board reads"})
    assert (
        patched["outcome"] == "Reports your board reads"
        and patched["meter"]["event_type"] == "report.generated"
    )
    wrong_kind = await h.client.post("/v1/addons", json={"key": "starter", "name": "x"}, headers=h.headers())
    assert wrong_kind.status_code == 409
    unknown = await h.client.post(
        "/v1/plans", json={"key": "p2", "name": "x", "features": {"nope": {}}}, headers=h.headers()
    )
    assert unknown.status_code == 422
    retired = await h.call("POST", "/v1/plans/starter/versions/1/retire")
    assert retired["status"] == "retired"
    refused = await h.client.post(
        "/v1/licenses",
        json={
            "account_id": "acct-9",
            "plan_key": "starter",
            "plan_version": 1,
            "term_start": "2026-01-01",
            "term_end": "2027-01-01",
        },
        headers=h.headers(),
    )
    assert refused.status_code == 404
    assert (await h.check("acct-1", "reports"))["sources"][0]["version"] == 1  # still served
