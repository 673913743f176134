"""The tenant's book on real PostgreSQL: renewals between dates, idle seats, status, cursor
pages in a stable order, CSV export of the same, another tenant's licenses never in it."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

pytestmark = pytest.mark.integration

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
