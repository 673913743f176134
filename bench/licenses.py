"""Set-up of the suites that need many licensed accounts: the licenses are imported, a
thousand per request and transaction (`POST /v1/imports/licenses`), not created one by one,
which cost the sdk suite 110 s of its set-up for 10,000 accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

PER_REQUEST = 1000  # the route's limit


async def import_licenses(client: httpx.AsyncClient, licenses: Sequence[dict[str, Any]]) -> None:
    """`client`: entitlements, with an admin token."""
    for start in range(0, len(licenses), PER_REQUEST):
        batch = list(licenses[start : start + PER_REQUEST])
        (await client.post("/v1/imports/licenses", json={"licenses": batch})).raise_for_status()
