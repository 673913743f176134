"""`POST /v1/imports/licenses` on real PostgreSQL and Kafka: every license of a batch is
stored, recorded, announced and applies the usage parked for its account, as if created
alone; a batch naming a plan that is not published creates nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"


def _license(account: str, plan: str = "starter", **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account,
        "plan_key": plan,
        "term_start": "2026-01-01",
        "term_end": "2027-01-01",
        **fields,
    }


async def test_an_import_creates_each_license_as_if_alone_in_the_order_sent(service: Any) -> None:
    h = service
    await h.provision("acct-0", limit=10)
    await h.produce([h.usage("early") for _ in range(2)])  # parked: "early" has no license yet

    async def parked() -> None:
        assert (await h.call("GET", "/v1/parked-usage?account_id=early"))["total"] == 2

    await eventually(parked)
    batch = [_license("acct-b", seats=5, reason="migrated"), _license("early"), _license("acct-a")]

    imported = (await h.call("POST", "/v1/imports/licenses", {"licenses": batch}, status=201))["licenses"]

    assert [(x["account_id"], x["plan_key"], x["plan_version"], x["seats"]) for x in imported] == [
        ("acct-b", "starter", 1, 5),
        ("early", "starter", 1, 1),
        ("acct-a", "starter", 1, 1),
    ]
    for license in imported:
        assert await h.call("GET", f"/v1/licenses/{license['id']}") == license
        [entry] = (await h.call("GET", f"/v1/licenses/{license['id']}/history"))["items"]
        assert entry["action"] == "created"
    created = await h.wait_events(4, TOPIC, "tangible.entitlements.v1.license_created")  # with acct-0's
    assert {e.data.license_id for e in created} >= {x["id"] for x in imported}

    async def applied() -> None:
        assert (await h.check("early", "reports"))["usage"] == 2
        assert (await h.check("acct-a", "reports"))["usage"] == 0

    await eventually(applied)
    assert (await h.call("GET", "/v1/parked-usage?account_id=early"))["total"] == 0


async def test_an_import_naming_an_unpublished_plan_creates_nothing(service: Any) -> None:
    h = service
    await h.provision("acct-0")
    batch = [_license("acct-1"), _license("acct-2", plan="enterprise")]

    refused = await h.client.post("/v1/imports/licenses", json={"licenses": batch}, headers=h.headers())

    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["title"], problem["key"]) == ("no published plan 'enterprise'", "enterprise")
    assert (await h.call("GET", "/v1/accounts/acct-1/licenses"))["total"] == 0


@pytest.mark.parametrize("licenses", [[], [_license(f"acct-{i}") for i in range(1001)]], ids=["none", "1001"])
async def test_an_import_takes_one_to_a_thousand_licenses(service: Any, licenses: list[Any]) -> None:
    refused = await service.client.post(
        "/v1/imports/licenses", json={"licenses": licenses}, headers=service.headers()
    )
    assert refused.status_code == 422, refused.text
