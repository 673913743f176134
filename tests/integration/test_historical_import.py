"""Historical import through `tangible-client import` against the running system: milestones
carry their historical dates, past crossings notify nobody, bad rows land in the errors
file, and an import killed half-way and resumed counts every row once."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tangible_devstack.scenario import Clients
from tangible_devstack.testing import eventually, serving
from tests.integration.conftest import StartedService

MILESTONE = "tangible.rewards.v1.milestone_reached"
ACCOUNT = "acct-history"


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def _rule(key: str, target: int) -> dict[str, Any]:
    return {
        "key": key,
        "name": key.title(),
        "kind": "usage_threshold",
        "params": {"usage_type": "report.generated", "target": target},
        "reward": {"kind": "credits", "credits": "10"},
    }


def _write_history(path: Path, start: datetime) -> list[datetime]:
    """Ten reports a day apart from `start`, and two rows no server would take."""
    times = [start + timedelta(days=d) for d in range(10)]
    lines = [
        json.dumps({"id": f"h-{i}", "type": "report.generated", "account_id": ACCOUNT, "time": t.isoformat()})
        for i, t in enumerate(times)
    ]
    lines.insert(3, json.dumps({"id": "bad-1", "type": "report.generated", "account_id": ACCOUNT}))
    lines.insert(7, "{not json")
    path.write_text("\n".join(lines) + "\n")
    return times


async def _cli(path: Path, url: str, token: str, *extra: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "TANGIBLE_TOKEN": token}
    command = ["-m", "tangible_client.cli", "import", str(path), "--url", url, "--no-progress", *extra]
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(sys.executable, *command, env=env, stdout=pipe, stderr=pipe)


async def test_an_imported_history_is_dated_silent_and_counted_once_across_a_resume(
    start_system: Callable[..., Any],
    started_services: dict[str, StartedService],
    issue_token: Callable[..., str],
    tenant_id: str,
    tmp_path: Path,
) -> None:
    system: Clients = await start_system()
    admin = issue_token(tenant_id, "admin")
    r, n = system.rewards, system.notifications
    await _call(r, "POST", "/v1/milestones", admin, _rule("history", 5))
    await _call(r, "POST", "/v1/milestones", admin, _rule("today", 11))
    await _call(n, "PUT", "/v1/settings", admin, {"inbox_enabled": True})
    await _call(
        n, "POST", "/v1/rules", admin, {"name": "m", "event_types": [MILESTONE], "channels": ["inbox"]}
    )
    history = tmp_path / "history.ndjson"
    times = _write_history(history, datetime.now(UTC).replace(microsecond=0) - timedelta(days=60))
    ingest_token = issue_token(tenant_id, "ingest")

    async with serving(started_services["usage-ingest"].app) as url:
        # slowed to a crawl, then killed once some batches are checkpointed
        first = await _cli(history, url, ingest_token, "--max-batch", "2", "--max-rate", "3")
        checkpoint = history.with_name("history.ndjson.checkpoint.json")

        async def some_progress() -> None:
            assert checkpoint.exists() and json.loads(checkpoint.read_text())["line"] >= 3

        await eventually(some_progress, timeout=20)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert not json.loads(checkpoint.read_text())["done"]
        second = await _cli(history, url, ingest_token)
        out, err = await second.communicate()
        # finished, with row errors: the exit status and `errors_in_file` follow the whole file,
        # however far the first run got before the kill (`errors` counts this run's rows only)
        assert second.returncode == 3, err.decode()
        assert json.loads(out)["errors_in_file"] == 2 and json.loads(checkpoint.read_text())["done"]

    with (tmp_path / "history.ndjson.errors.csv").open(newline="") as stream:
        errors = list(csv.DictReader(stream))
    assert [(e["line"], e["code"]) for e in errors] == [("4", "missing-time"), ("8", "malformed-json")]

    # a live event: the 11th report meets "today" now, which notifies
    live = {
        "specversion": "1.0",
        "id": "live-1",
        "source": "app://reports",
        "type": "report.generated",
        "subject": ACCOUNT,
    }
    await _call(system.ingest, "POST", "/v1/events", ingest_token, live)

    async def rewarded() -> dict[str, Any]:
        found = (await _call(r, "GET", f"/v1/accounts/{ACCOUNT}/rewards", admin))["rewards"]
        assert len(found) == 2, found
        return {x["rule_key"]: x for x in found}

    rewards = await eventually(rewarded, timeout=30)
    # the fifth report met "history": the reward is dated then, not at import time
    assert datetime.fromisoformat(rewards["history"]["granted_at"]) == times[4]
    assert datetime.fromisoformat(rewards["today"]["granted_at"]) > times[-1]

    async def notified() -> list[dict[str, Any]]:
        items = (await _call(n, "GET", f"/v1/accounts/{ACCOUNT}/inbox", admin))["items"]
        assert items
        return list(items)

    # both milestones are on one partition, in order: once today's is in the inbox, the past
    # one was consumed before it, and told nobody
    assert len(await eventually(notified, timeout=30)) == 1
    progress = await _call(r, "GET", f"/v1/accounts/{ACCOUNT}/progress", admin)
    assert {m["current"] for m in progress["milestones"]} == {11}  # every row once, resume or not
