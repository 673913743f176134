"""The quarterly impact report of a demo-like account, across the whole system on one
manual clock: usage through usage-ingest in the second and third quarters, the report
served by notifications from entitlements' and rewards' own APIs (on loopback, as in
production) in every format; the PDF's text layer and its first page as a picture; its
figures equal to those of the usage, progress and ledger APIs for the same period; the
tenant's template, the reader's language, and a share link that works without a login
until it is revoked."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.scenario import bearer
from tangible_devstack.testing import eventually, running, serving, wait_ready
from tangible_runtime.domain import ManualClock
from tangible_runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "acct-impact"
PEERS = [f"acct-peer-{i}" for i in range(5)]  # the cohort reaches k = 5 with them
TERM = {"term_start": "2026-01-01", "term_end": "2027-01-01"}  # fixed date: around the manual clock
Q2 = ("2026-04-01", "2026-06-30")  # fixed date: the quarter before, on the manual clock
Q3 = ("2026-07-01", "2026-09-30")  # fixed date: the reported quarter
Q2_TO_Q3 = {"from": Q2[0], "to": Q3[1]}
# a 1×1 PNG, as a vendor's logo
LOGO = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc33"
            "0000000049454e44ae426082"
        )
    ).decode()
)


async def call(client: httpx.AsyncClient, token: str, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers=bearer(token))
    assert response.status_code in (200, 201, 202, 204), (
        f"{method} {path}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def usage_events(account: str, days: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "app://reports",
            "type": "report.generated",
            "subject": account,
            "time": f"{day}T10:00:00Z",
            "data": {"quantity": 1, "user_id": f"u-{i % 3}"},
        }
        for i, day in enumerate(days)
    ]


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> tuple[str, Path]:
    """The PDF's text layer (pdftotext) and its first page as a PNG (pdftoppm)."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(tmp_path / name),
        ],
        check=True,
    )
    return text, tmp_path / f"{name}.png"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (make test-packages)")
async def test_the_impact_report_in_every_format_with_the_figures_of_the_services(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
    tmp_path: Path,
) -> None:
    from cryptography.fernet import Fernet

    from tangible_entitlements import bootstrap as entitlements
    from tangible_entitlements.config import Settings as EntitlementsSettings
    from tangible_ingest import bootstrap as ingest
    from tangible_ingest.config import Settings as IngestSettings
    from tangible_notifications import bootstrap as notifications
    from tangible_notifications.config import Settings as NotificationsSettings
    from tangible_rewards import bootstrap as rewards
    from tangible_rewards.config import Settings as RewardsSettings

    clock = ManualClock(datetime(2026, 6, 20, 9, tzinfo=UTC))  # fixed date: every service on it
    common: dict[str, Any] = {"kafka": kafka_settings, "auth": auth_settings}

    async def url(name: str) -> str:
        return await database_factory(name, ROOT / "services" / name / "migrations")

    async with AsyncExitStack() as stack:

        async def start(app: FastAPI) -> httpx.AsyncClient:
            client = await stack.enter_async_context(running(app))
            await wait_ready(client)
            return client

        ent_app = entitlements.bootstrap(
            EntitlementsSettings(database_url=await url("entitlements"), **common),
            clock=clock,
            configure_logs=False,
        )
        ent = await start(ent_app)
        ent_url = await stack.enter_async_context(serving(ent_app))
        rew_app = rewards.bootstrap(
            RewardsSettings(database_url=await url("rewards"), late_event_window_hours=24 * 100, **common),
            clock=clock,
            configure_logs=False,
        )
        rew = await start(rew_app)
        rew_url = await stack.enter_async_context(serving(rew_app))
        ing = await start(
            ingest.bootstrap(
                IngestSettings(database_url=await url("usage-ingest"), **common),
                clock=clock,
                configure_logs=False,
            )
        )
        notes = await start(
            notifications.bootstrap(
                NotificationsSettings(
                    database_url=await url("notifications"),
                    entitlements_url=ent_url,
                    rewards_url=rew_url,
                    secrets_key=Fernet.generate_key().decode(),
                    public_url="https://reports.example.com",
                    scheduler_interval_seconds=0.05,
                    # the other services share this event loop: a stall is not an outage
                    http_timeout_seconds=10.0,
                    delivery_poll_seconds=0.05,
                    **common,
                ),
                clock=clock,
                configure_logs=False,
            )
        )

        # a demo-like catalog: reports (0.25 hours saved each) and exports, both licensed on
        # growth; the account and five peers on it; seats; a milestone at 30 reports
        admin = issue_token(tenant_id, "admin")
        for feature in (
            {
                "key": "reports",
                "name": "Reports",
                "kind": "metered",
                "meter": {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"},
                "outcome": "Board-ready reports in one click",
                "impact_metric": "hours saved",
                "impact_per_unit": 0.25,
            },
            {
                "key": "exports",
                "name": "Exports",
                "kind": "metered",
                "meter": {"event_type": "export.created", "aggregation": "count", "reset_period": "month"},
            },
        ):
            await call(ent, admin, "POST", "/v1/features", feature)
        plan = {"key": "growth", "name": "Growth", "features": {"reports": {}, "exports": {}}}
        await call(ent, admin, "POST", "/v1/plans", plan)
        await call(ent, admin, "POST", "/v1/plans/growth/versions/1/publish", {})
        license = await call(
            ent,
            admin,
            "POST",
            "/v1/licenses",
            {"account_id": ACCOUNT, "plan_key": "growth", "seats": 5, **TERM},
        )
        for user in ("u-0", "u-1", "u-2"):
            await call(ent, admin, "POST", f"/v1/licenses/{license['id']}/seats", {"user_id": user})
        for peer in PEERS:
            await call(ent, admin, "POST", "/v1/licenses", {"account_id": peer, "plan_key": "growth", **TERM})
        milestone = {
            "key": "thirty-reports",
            "name": "Thirty reports",
            "kind": "usage_threshold",
            "params": {"usage_type": "report.generated", "target": 30},
            "reward": {"kind": "credits", "credits": "100", "credits_expire_days": 90},
        }
        await call(rew, admin, "POST", "/v1/milestones", milestone)
        summaries = {"quarterly_summary": True, "quarterly_channels": ["inbox"]}
        await call(notes, admin, "PUT", "/v1/settings", summaries)

        ingest_headers = {
            **bearer(issue_token(tenant_id, "ingest")),
            "Content-Type": "application/cloudevents-batch+json",
        }

        async def send(events: list[dict[str, Any]]) -> None:
            response = await ing.post("/v1/events", json=events, headers=ingest_headers)
            assert response.status_code == 202 and response.json()["accepted"] == len(events), response.text

        reader_token = issue_token(tenant_id, "read", account_id=ACCOUNT)
        reader = bearer(reader_token)

        async def reports_used(expected: float) -> None:
            response = await ent.get(
                f"/v1/accounts/{ACCOUNT}/usage",
                params=Q2_TO_Q3,
                headers=reader,
            )
            assert response.status_code == 200 and response.json()["features"], response.text
            totals = {f["feature_key"]: f["total"] for f in response.json()["features"]}
            assert totals.get("reports") == expected, totals

        # Q2: 20 reports in June
        june = [f"2026-06-{1 + i % 19:02d}" for i in range(20)]  # fixed date: the manual clock's June
        await send(usage_events(ACCOUNT, june))
        await eventually(lambda: reports_used(20), timeout=20)
        # Q3: 40 reports from July to September, and a few for each peer in September
        clock.set(datetime(2026, 9, 25, 9, tzinfo=UTC))  # fixed date: the manual clock
        days = [f"2026-{7 + i % 3:02d}-{1 + i % 20:02d}" for i in range(40)]  # fixed date: Q3
        await send(usage_events(ACCOUNT, days))
        for n, peer in enumerate(PEERS):
            await send(usage_events(peer, [f"2026-09-{10 + n:02d}" for _ in range(n + 1)]))  # fixed date: Q3
        await eventually(lambda: reports_used(60), timeout=20)

        async def rewarded() -> None:
            balance = await rew.get(f"/v1/accounts/{ACCOUNT}/balance", headers=reader)
            assert balance.status_code == 200 and Decimal(balance.json()["total"]) == 100, balance.text

        await eventually(rewarded, timeout=20)
        clock.set(datetime(2026, 10, 2, 9, tzinfo=UTC))  # fixed date: the quarter has ended

        # JSON: the figures, equal to the services' own APIs for the same period
        response = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3"}, headers=reader
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["period"], report["from"], report["to"]) == ("2026-Q3", *Q3)
        usage = (
            await ent.get(
                f"/v1/accounts/{ACCOUNT}/usage", params={"from": Q3[0], "to": Q3[1]}, headers=reader
            )
        ).json()
        previous = (
            await ent.get(
                f"/v1/accounts/{ACCOUNT}/usage",
                params={"from": Q2[0], "to": Q2[1]},
                headers=reader,
            )
        ).json()
        progress = (await rew.get(f"/v1/accounts/{ACCOUNT}/progress", headers=reader)).json()
        ledger = (await rew.get(f"/v1/accounts/{ACCOUNT}/ledger", headers=reader)).json()
        balance = (await rew.get(f"/v1/accounts/{ACCOUNT}/balance", headers=reader)).json()
        seats = (await ent.get(f"/v1/accounts/{ACCOUNT}/seats", headers=reader)).json()
        features = {f["feature_key"]: f for f in report["features"]}
        assert {k: f["total"] for k, f in features.items()} == {
            f["feature_key"]: f["total"] for f in usage["features"]
        }
        assert {k: f["previous"] for k, f in features.items()} == {
            f["feature_key"]: f["total"] for f in previous["features"]
        }
        assert features["reports"]["total"] == 40 and features["reports"]["previous"] == 20
        assert features["reports"]["change_percent"] == 100.0
        assert features["reports"]["year_earlier"] is None  # no data a year earlier
        assert [(v["metric"], v["value"]) for v in report["value"]] == [
            (m["metric"], m["value"]) for m in usage["impact"]
        ]
        assert report["value"] == [
            {"metric": "hours saved", "value": 10.0, "previous": 5.0, "change_percent": 100.0}
        ]
        assert [(m["name"], m["reached"], m["percent"]) for m in report["milestones"]] == [
            (m["name"], m["reached"], m["percent"]) for m in progress["milestones"]
        ]
        granted_in_q3 = sum(
            Decimal(e["amount"])
            for e in ledger["entries"]
            if e["kind"] == "grant" and Q3[0] <= e["created_at"][:10] <= Q3[1]
        )
        assert Decimal(report["credits_granted"]) == granted_in_q3 == 100
        assert Decimal(report["balance"]) == Decimal(balance["total"])
        assert [Decimal(e["amount"]) for e in report["expiring"]] == [
            Decimal(b["amount"]) for b in balance["buckets"]
        ]
        assert report["seats"] == {k: seats[k] for k in ("purchased", "assigned", "active")}
        assert report["unused"] == ["Exports"]
        assert report["peer"] is not None and report["peer"]["plan_key"] == "growth"  # k = 6 ≥ 5
        assert report["peer"]["plan_name"] == "Growth"
        assert report["peer"]["sentence"].endswith("of teams on Growth (Reports).")
        [reports_usage] = [f for f in usage["features"] if f["feature_key"] == "reports"]
        assert report["peer"]["percentile"] == reports_usage["cohort"]["percentile"]

        # HTML, CSV, PDF: the same figures; the PDF's text layer and a picture of its first page
        html = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3", "format": "html"}, headers=reader
        )
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "<svg" in html.text and "≈ 10 hours saved (+100 %)" in html.text and "Exports" in html.text
        csv = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3", "format": "csv"}, headers=reader
        )
        assert csv.status_code == 200 and "usage,reports,Reports,40.0,20.0,,100.0" in csv.text, csv.text
        pdf = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3", "format": "pdf"}, headers=reader
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text, page = pdf_text(pdf.content, tmp_path, "report-en")
        for figure in (
            "Impact report",
            "≈ 10 hours saved (+100 %)",
            "40 Reports (+100 %)",
            "Thirty reports",
            "Exports",
            "Q3 2026",
        ):
            assert figure in text, (figure, text)
        assert page.stat().st_size > 10_000  # a rendered page, charts included
        if picture := os.environ.get("TANGIBLE_IMPACT_REPORT_PNG"):  # how docs/impact-report.png is made
            shutil.copy(page, picture)

        # the quarterly summary (sent once the quarter has ended; awaited before the account
        # prefers German, which would write it in German) carries the report's top numbers with
        # their trend, the peer line (k = 6) and a share link with its PDF
        async def summary() -> dict[str, Any]:
            response = await notes.get(f"/v1/accounts/{ACCOUNT}/inbox", headers=reader)
            [item] = [i for i in response.json()["items"] if i["title"] == "Your quarter in review: 2026-Q3"]
            return dict(item)

        item = await eventually(summary, timeout=30)
        body = item["body"]
        assert "• ≈ 10 hours saved (+100 %)\n• 40 Reports (+100 %)" in body, body
        assert "Your team is more active than" in body and "teams on Growth (Reports)" in body, body
        [summary_url] = [
            w
            for w in body.split()
            if w.startswith("https://reports.example.com/v1/shared-reports/") and "format" not in w
        ]
        assert f"PDF: {summary_url}?format=pdf" in body
        from_summary = await notes.get(
            summary_url.removeprefix("https://reports.example.com"), params={"format": "pdf"}
        )
        assert from_summary.status_code == 200 and from_summary.content.startswith(b"%PDF")

        # the reader's language: German from the account's preference, numbers and dates as in German
        await call(notes, admin, "PUT", f"/v1/accounts/{ACCOUNT}/preferences", {"locale": "de"})
        pdf_de = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3", "format": "pdf"}, headers=reader
        )
        text_de, _ = pdf_text(pdf_de.content, tmp_path, "report-de")
        assert "Wirkungsbericht" in text_de and "Ungenutzte Vorteile" in text_de, text_de
        assert "Erstellt am 02.10.2026" in text_de, text_de  # a German date: the manual clock's day

        # the tenant's template: wording, colours, section order, logo; and its preview
        template = {
            "logo": LOGO,
            "primary_color": "#AA3300",
            "sections": ["summary", "usage", "unused"],
            "wording": {"en": {"title": "Your quarter with Acme"}, "de": {"title": "Ihr Quartal mit Acme"}},
        }
        await call(notes, admin, "PUT", "/v1/report-template", template)
        assert (await call(notes, admin, "GET", "/v1/report-template"))["primary_color"] == "#AA3300"
        preview = await notes.post(
            "/v1/report-template/preview", json={"locale": "en"}, headers=bearer(admin)
        )
        assert preview.status_code == 200 and "Your quarter with Acme" in preview.text, preview.text
        custom = await notes.get(
            f"/v1/accounts/{ACCOUNT}/report", params={"period": "2026-Q3", "format": "html"}, headers=reader
        )
        assert (
            "Ihr Quartal mit Acme" in custom.text
            and 'id="seats"' not in custom.text
            and "#AA3300" in custom.text
            and '<img src="data:image/png;base64,' in custom.text  # the logo, embedded
        )
        bad = await notes.put("/v1/report-template", json={"primary_color": "red"}, headers=bearer(admin))
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"

        # a share link: no login, read-only, until revoked
        link = await call(
            notes,
            reader_token,
            "POST",
            f"/v1/accounts/{ACCOUNT}/report/share-links",
            {"period": "2026-Q3", "locale": "en"},
        )
        assert link["status"] == "active" and link["url"].startswith(
            "https://reports.example.com/v1/shared-reports/"
        )
        path = link["url"].removeprefix("https://reports.example.com")
        shared = await notes.get(path)
        assert shared.status_code == 200 and "Your quarter with Acme" in shared.text
        shared_pdf = await notes.get(path, params={"format": "pdf"})
        assert shared_pdf.status_code == 200 and shared_pdf.content.startswith(b"%PDF")
        assert (await notes.get(path[:-2] + "xx")).status_code == 404  # a forged signature
        assert (await notes.post(path)).status_code == 405  # read-only
        await call(notes, admin, "POST", f"/v1/accounts/{ACCOUNT}/report/share-links/{link['id']}/revoke")
        gone = await notes.get(path)
        assert gone.status_code == 410 and gone.json()["type"].endswith("share-link-revoked")

        # a share link expires after its TTL, on the service's clock
        short = await call(
            notes,
            reader_token,
            "POST",
            f"/v1/accounts/{ACCOUNT}/report/share-links",
            {"period": "2026-Q3", "locale": "en", "ttl_hours": 1},
        )
        short_path = short["url"].removeprefix("https://reports.example.com")
        assert (await notes.get(short_path)).status_code == 200
        clock.set(datetime(2026, 10, 2, 10, 1, tzinfo=UTC))  # fixed date: an hour and a minute later
        expired = await notes.get(short_path)
        assert expired.status_code == 410 and expired.json()["type"].endswith("share-link-expired")
        await call(notes, admin, "DELETE", "/v1/report-template")
