"""The tenant's book on real PostgreSQL: renewals between dates, idle seats, status, cursor
pages in a stable order, CSV export of the same, another tenant's licenses never in it; and
from real usage through Kafka and the scheduler, the accounts at risk, the upgrade candidates
and the accounts over or near a limit, each with its evidence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"
UPGRADE = "tangible.entitlements.v1.upgrade_suggested"
RISK = "tangible.entitlements.v1.renewal_risk_detected"

TERMS = {  # account → term end (all start 2026-01-01)
    "acct-a": "2027-01-01",
    "acct-b": "2027-03-15",
    "acct-c": "2027-03-31",
    "acct-d": "2027-06-30",
    "acct-e": "2027-03-15",
}


async def test_the_book_filters_sorts_pages_and_exports(service: Any) -> None:
    h = service
    await h.provision("acct-a")
    ids = {}
    for account, end in TERMS.items():
        if account == "acct-a":
            continue
        license = await h.call(
            "POST",
            "/v1/licenses",
            {
                "account_id": account,
                "plan_key": "starter",
                "term_start": "2026-01-01",
                "term_end": end,
                "seats": 4,
            },
        )
        ids[account] = license["id"]
    for user in ("u1", "u2", "u3"):  # acct-b: 1 of 4 seats idle; the others all idle
        await h.call("POST", f"/v1/licenses/{ids['acct-b']}/seats", {"user_id": user})
    await h.call("POST", f"/v1/licenses/{ids['acct-d']}/suspend", {"reason": "unpaid"})

    async def book(**params: Any) -> dict[str, Any]:
        response = await h.client.get("/v1/book", params=params, headers=h.headers())
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    renewing = await book(renewing_from="2027-03-01", renewing_to="2027-03-31")
    ends = [e["term_end"] for e in renewing["items"]]
    assert ends == ["2027-03-15", "2027-03-15", "2027-03-31"], "by renewal date"
    assert {e["account_id"] for e in renewing["items"]} == {"acct-b", "acct-c", "acct-e"}
    assert renewing["next_cursor"] is None

    idle = await book(idle_seats_above=50)
    assert {e["account_id"] for e in idle["items"]} == {"acct-a", "acct-c", "acct-d", "acct-e"}
    b = next(e for e in (await book(sort="account_id"))["items"] if e["account_id"] == "acct-b")
    assert b["seats_assigned"] == 3 and b["idle_seats_percent"] == 25.0
    assert [e["account_id"] for e in (await book(status="suspended"))["items"]] == ["acct-d"]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await book(sort="account_id", limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += [e["account_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(TERMS), "every license once, in order, across pages"

    exported = await h.client.get(
        "/v1/book/export",
        params={"renewing_from": "2027-03-01", "renewing_to": "2027-03-31"},
        headers=h.headers(),
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(row["account_id"] for row in rows) == ["acct-b", "acct-c", "acct-e"]

    bad = await h.client.get("/v1/book", params={"cursor": "bm90LWEta2V5"}, headers=h.headers())
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    other_tenant = {"Authorization": f"Bearer {h.issue_token('another-tenant', 'admin')}"}
    other = await h.client.get("/v1/book", headers=other_tenant)
    assert other.status_code == 200 and other.json()["items"] == []


GROWTH = {
    "key": "growth",
    "name": "Growth",
    "price": 30,
    "features": {"reports": {"limit": 50}, "support": {"config": "standard"}, "seats": {}},
}


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, tzinfo=UTC)


async def _book(h: Any, path: str = "/v1/book", **params: Any) -> Any:
    response = await h.client.get(path, params=params, headers=h.headers())
    assert response.status_code == 200, response.text
    return response.json() if path == "/v1/book" else list(csv.DictReader(io.StringIO(response.text)))


async def _all(h: Any, **params: Any) -> list[dict[str, Any]]:
    """Every entry, following the cursor two at a time."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await _book(h, limit=2, **params, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_the_book_shows_risk_upgrade_candidates_and_limits_with_their_evidence(service: Any) -> None:
    h = service
    h.clock.set(_at(10, 10))
    await h.provision("acct-quiet", limit=10, hard=False)  # starter: 10 reports a month, soft
    await h.call("POST", "/v1/plans", GROWTH)
    await h.call("POST", "/v1/plans/growth/versions/1/publish")
    for account in ("acct-risk", "acct-up", "acct-near", "acct-over"):
        await h.call(
            "POST",
            "/v1/licenses",
            {
                "account_id": account,
                "plan_key": "starter",
                "term_start": "2026-01-01",
                "term_end": "2027-01-01",
            },
        )
    # September and October first (so that October is counted before November is weighed)
    await h.produce(
        [h.usage("acct-risk", at=_at(9, 10)) for _ in range(30)]
        + [h.usage("acct-risk", at=_at(10, 5)) for _ in range(5)]  # -83.3 %: at risk
        + [h.usage("acct-up", at=_at(10, 5)) for _ in range(9)]  # 90 %, then 80 %: upgrade
    )
    for account, total in (("acct-risk", 35), ("acct-up", 9)):

        async def counted(account: str = account, total: float = total) -> None:
            report = await h.call("GET", f"/v1/accounts/{account}/usage?from=2026-09-01&to=2026-10-31")
            assert report["features"][0]["total"] == total, report

        await eventually(counted)
    h.clock.set(_at(11, 5))  # October is over and settled; renewals are within 90 days
    await h.produce(
        [h.usage("acct-up", at=_at(11, 4)) for _ in range(8)]
        + [h.usage("acct-near", at=_at(11, 4)) for _ in range(9)]  # 90 % in one period only
        + [h.usage("acct-over", at=_at(11, 4)) for _ in range(12)]  # over the soft limit
    )
    await h.wait_events(1, TOPIC, RISK)
    await h.wait_events(2, TOPIC, UPGRADE)  # acct-up near its limit, acct-over past it

    async def limits_counted() -> None:
        assert (await _book(h, limit_used_above=80))["items"] and len((await _book(h))["items"]) == 5
        assert {e["account_id"] for e in (await _book(h, limit_used_above=0))["items"]} == {
            "acct-up",
            "acct-near",
            "acct-over",
        }

    await eventually(limits_counted)

    at_risk = (await _book(h, at_risk="true"))["items"]
    assert [e["account_id"] for e in at_risk] == ["acct-risk"]
    risk = at_risk[0]["renewal_risk"]
    assert (risk["renewal_date"], risk["decline_percent"], risk["period"]) == ("2027-01-01", 83.3, "month")
    [evidence] = risk["evidence"]
    assert (evidence["feature_key"], evidence["previous_usage"], evidence["usage"]) == ("reports", 30, 5)
    assert evidence["detail"] == "fell 83.3 % from 30 to 5"
    assert len((await _book(h, at_risk="false"))["items"]) == 4

    candidates = {e["account_id"]: e for e in (await _book(h, upgrade_candidate="true"))["items"]}
    assert sorted(candidates) == ["acct-over", "acct-up"]
    [up] = candidates["acct-up"]["upgrade_suggestions"]
    assert (up["reason"], up["suggestion_kind"], up["suggestion_key"]) == ("near_limit", "plan", "growth")
    assert [(e["usage"], e["limit"]) for e in up["evidence"]] == [(9, 10), (8, 10)]
    [over_up] = candidates["acct-over"]["upgrade_suggestions"]
    assert (
        over_up["reason"] == "soft_limit_exceeded"
        and over_up["evidence"][0]["detail"] == "over the soft limit by 2"
    )
    for account, entry in candidates.items():  # the same evidence as the account's own view
        view = await h.call("GET", f"/v1/accounts/{account}/upgrade-suggestions")
        assert view["suggestions"] == entry["upgrade_suggestions"]

    near = (await _book(h, limit_used_above=80, sort="limit_used"))["items"]
    assert [(e["account_id"], e["limit_used_percent"]) for e in near] == [
        ("acct-over", 120.0),
        ("acct-near", 90.0),
    ]
    [limit] = near[0]["limits"]
    assert (limit["feature_key"], limit["usage"], limit["limit"], limit["used_percent"]) == (
        "reports",
        12,
        10,
        120,
    )
    assert limit["period_start"].startswith("2026-11-01")
    assert [e["account_id"] for e in (await _book(h, limit_used_above=100))["items"]] == ["acct-over"]
    both = (await _book(h, limit_used_above=50, upgrade_candidate="false"))["items"]
    assert [e["account_id"] for e in both] == ["acct-near"], "filters combine"

    # sorted by each signal, every entry once across cursor pages, those without last
    by_use = await _all(h, sort="limit_used")
    assert [e["account_id"] for e in by_use][:3] == ["acct-over", "acct-near", "acct-up"]
    assert sorted(e["account_id"] for e in by_use) == sorted(
        ["acct-quiet", "acct-risk", "acct-up", "acct-near", "acct-over"]
    )
    assert [e["account_id"] for e in await _all(h, sort="risk")][0] == "acct-risk"
    by_upgrade = [e["account_id"] for e in await _all(h, sort="upgrade")]
    assert sorted(by_upgrade[:2]) == ["acct-over", "acct-up"] and len(set(by_upgrade)) == 5

    # the export is the listed rows, in the same order, evidence included
    for params in ({"sort": "limit_used"}, {"upgrade_candidate": "true"}, {"at_risk": "true"}):
        listed = (await _book(h, **params))["items"]
        exported = await _book(h, "/v1/book/export", **params)
        assert [r["account_id"] for r in exported] == [e["account_id"] for e in listed]
        for row, entry in zip(exported, listed, strict=True):
            assert row["limit_used_percent"] == (
                "" if entry["limit_used_percent"] is None else str(entry["limit_used_percent"])
            )
            assert row["upgrade_suggestions"] == " ".join(
                f"{s['suggestion_kind']}:{s['suggestion_key']}" for s in entry["upgrade_suggestions"]
            )
            risk_entry = entry["renewal_risk"]
            assert row["risk_decline_percent"] == (str(risk_entry["decline_percent"]) if risk_entry else "")
            assert (row["renewal_risk_evidence"] != "") == (risk_entry is not None)
    bad = await h.client.get(
        "/v1/book", params={"sort": "risk", "cursor": "WyIyMDI3LTAxLTAxIiwgIngiXQ"}, headers=h.headers()
    )
    assert bad.status_code == 422, "a renewal-date cursor is not one of the risk order"
