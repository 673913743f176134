"""The impact report of one demo account, as its customer would forward it: HTML and PDF
written under `.data/reports/`, and a share link (read-only, no login) to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

from tangible_devstack.paths import data_dir


@dataclass(frozen=True)
class WrittenReport:
    html: Path
    pdf: Path
    share_url: str


async def write_report(
    notifications: httpx.AsyncClient, account_id: str, start: date, end: date
) -> WrittenReport:
    """The replayed weeks as one custom period (the report compares them with the weeks before)."""
    start = max(start, end - timedelta(days=365))  # a custom period spans at most a year
    period = f"{start.isoformat()}..{end.isoformat()}"
    folder = data_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for format in ("html", "pdf"):
        response = await notifications.get(
            f"/v1/accounts/{account_id}/report", params={"period": period, "format": format}
        )
        response.raise_for_status()
        path = folder / f"impact-report-{account_id}.{format}"
        path.write_bytes(response.content)
        paths[format] = path
    link = await notifications.post(
        f"/v1/accounts/{account_id}/report/share-links", json={"period": period, "ttl_hours": 168}
    )
    link.raise_for_status()
    return WrittenReport(paths["html"], paths["pdf"], str(link.json()["url"]))
