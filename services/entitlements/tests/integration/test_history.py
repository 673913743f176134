"""The account's audit-ready history: filters, pages, JSON / CSV exports, verification."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tangible_entitlements.domain import audit

pytestmark = pytest.mark.integration


async def changes(h: Any) -> str:
    """created, seat_assigned ×2, grant_applied, suspended, reinstated on acct-1; one on acct-2."""
    license = await h.provision(limit=10)
    lid = str(license["id"])
    for user in ("u1", "u2"):
        h.clock.advance(timedelta(minutes=1))
        await h.call("POST", f"/v1/licenses/{lid}/seats", {"user_id": user}, status=201)
    h.clock.advance(timedelta(minutes=1))
    await h.call(
        "POST",
        "/v1/accounts/acct-1/grants",
        {"feature_key": "sso", "value": {"enabled": True}, "reason": "goodwill, ünïcode ok"},
        status=201,
    )
    h.clock.advance(timedelta(minutes=1))
    await h.call("POST", f"/v1/licenses/{lid}/suspend", {"reason": "unpaid"})
    await h.call("POST", f"/v1/licenses/{lid}/reinstate", {"reason": "paid"})
    await h.call(
        "POST",
        "/v1/licenses",
        {"account_id": "acct-2", "plan_key": "starter", "term_start": "2026-01-01", "term_end": "2027-01-01"},
    )
    return lid


async def post_verify(h: Any, body: bytes | str, content_type: str = "application/json") -> dict[str, Any]:
    response = await h.client.post(
        "/v1/accounts/acct-1/history/verify",
        content=body,
        headers={**h.headers("read"), "content-type": content_type},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_history_pages_filters_and_exports_that_verify(service: Any) -> None:
    h = service
    lid = await changes(h)

    page = await h.call("GET", "/v1/accounts/acct-1/history?limit=4")
    assert page["total"] == 6 and [r["seq"] for r in page["items"]] == [1, 2, 3, 4]
    rest = await h.call("GET", "/v1/accounts/acct-1/history?limit=4&offset=4")
    everything = page["items"] + rest["items"]
    assert [r["action"] for r in everything] == [
        "created",
        "seat_assigned",
        "seat_assigned",
        "grant_applied",
        "suspended",
        "reinstated",
    ]
    assert all(r["account_id"] == "acct-1" for r in everything)  # acct-2's change is its own chain
    assert everything[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(everything, everything[1:], strict=False))
    seats = await h.call("GET", "/v1/accounts/acct-1/history?action=seat_assigned")
    assert [r["after"]["user_id"] for r in seats["items"]] == ["u1", "u2"]
    both = await h.call(
        "GET", f"/v1/accounts/acct-1/history?action=suspended&action=reinstated&license_id={lid}"
    )
    assert [(r["action"], r["reason"]) for r in both["items"]] == [
        ("suspended", "unpaid"),
        ("reinstated", "paid"),
    ]
    since = everything[3]["at"].replace("+00:00", "Z")
    later = await h.call("GET", f"/v1/accounts/acct-1/history?from={since}")
    assert [r["seq"] for r in later["items"]] == [4, 5, 6]

    own = h.headers("read", account_id="acct-1")
    other = h.headers("read", account_id="acct-2")
    assert (await h.client.get("/v1/accounts/acct-1/history", headers=own)).status_code == 200
    for path in ("", "/export", "/verify"):
        response = await h.client.get(f"/v1/accounts/acct-1/history{path}", headers=other)
        assert response.status_code == 403, (path, response.text)

    exported = await h.client.get("/v1/accounts/acct-1/history/export", headers=own)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/json")
    body = exported.json()
    assert (body["complete"], body["head"]["seq"], len(body["records"])) == (True, 6, 6)
    assert await post_verify(h, exported.content) == {
        "intact": True,
        "checked": 6,
        "first_altered_seq": None,
        "problem": None,
    }
    as_csv = await h.client.get("/v1/accounts/acct-1/history/export?format=csv", headers=own)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["action"] for r in rows] == [r["action"] for r in everything]
    assert (await post_verify(h, as_csv.text, "text/csv"))["intact"] is True
    filtered = await h.client.get("/v1/accounts/acct-1/history/export?action=seat_assigned", headers=own)
    assert filtered.json()["complete"] is False
    assert await post_verify(h, filtered.content) == {
        "intact": True,
        "checked": 2,
        "first_altered_seq": None,
        "problem": None,
    }

    # an altered export: the first altered record is named, in either format
    altered = json.loads(exported.content)
    altered["records"][2]["after"]["user_id"] = "someone-else"
    verdict = await post_verify(h, json.dumps(altered))
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 3)
    rows[4]["reason"] = "paid on time"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    verdict = await post_verify(h, buffer.getvalue(), "text/csv")
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 5)
    dropped = json.loads(exported.content)
    del dropped["records"][3]
    verdict = await post_verify(h, json.dumps(dropped))
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 4)
    unreadable = await h.client.post(
        "/v1/accounts/acct-1/history/verify",
        content=b"{not json",
        headers={**own, "content-type": "application/json"},
    )
    assert unreadable.status_code == 422 and unreadable.json()["type"].endswith("unreadable-export")


async def test_altering_one_stored_history_row_is_detected_by_verify(service: Any) -> None:
    h = service
    await changes(h)
    intact = await h.call("GET", "/v1/accounts/acct-1/history/verify")
    assert intact == {"intact": True, "checked": 6, "first_altered_seq": None, "problem": None}
    exported = await h.client.get("/v1/accounts/acct-1/history/export", headers=h.headers("read"))

    # someone with database access rewrites why the license was suspended
    await h.sql(
        "UPDATE license_history SET reason = 'fraud' WHERE account_id = 'acct-1' AND action = 'suspended'"
    )
    verdict = await h.call("GET", "/v1/accounts/acct-1/history/verify")
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 5)
    assert verdict["problem"] == "its content does not match its hash"
    assert (await h.call("GET", "/v1/accounts/acct-2/history/verify"))["intact"] is True

    # re-hashing the altered row does not help: its successor's link breaks
    rows = await h.sql(
        "SELECT * FROM license_history WHERE account_id = 'acct-1' AND seq = 5",
    )
    forged = audit.record_hash(dict(rows[0]))
    await h.sql(
        "UPDATE license_history SET hash = :hash WHERE account_id = 'acct-1' AND seq = 5", hash=forged
    )
    verdict = await h.call("GET", "/v1/accounts/acct-1/history/verify")
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 5)
    # and the export taken before still proves what was written, pointing at where the store differs
    verdict = await post_verify(h, exported.content)
    assert (verdict["intact"], verdict["first_altered_seq"], verdict["problem"]) == (
        False,
        5,
        "it differs from the stored chain",
    )

    await h.sql("DELETE FROM license_history WHERE account_id = 'acct-1' AND seq = 2")
    verdict = await h.call("GET", "/v1/accounts/acct-1/history/verify")
    assert (verdict["intact"], verdict["first_altered_seq"]) == (False, 2)


@pytest.mark.parametrize("account_id", ["😀-acct", "café", 'a"b\r\nSet-Cookie: x=1'])
async def test_export_names_any_account_in_an_ascii_content_disposition(
    service: Any, account_id: str
) -> None:
    """Account ids are any Unicode: the download name travels as RFC 6266 `filename*`
    (percent-encoded UTF-8) with an ASCII `filename` fallback, never as raw bytes."""
    h = service
    for format in ("json", "csv"):
        response = await h.client.get(
            f"/v1/accounts/{quote(account_id, safe='')}/history/export",
            params={"format": format},
            headers=h.headers("read"),
        )
        assert response.status_code == 200, response.text
        raw = dict(response.headers.raw)[b"content-disposition"]
        assert raw.isascii() and b"\r" not in raw and b"\n" not in raw
        disposition, fallback, extended = raw.decode().split("; ")
        assert disposition == "attachment"
        assert fallback.startswith('filename="history-') and fallback.count('"') == 2
        charset, _, encoded = extended.removeprefix("filename*=").partition("''")
        assert (charset, unquote(encoded, encoding="utf-8")) == ("UTF-8", f"history-{account_id}.{format}")
