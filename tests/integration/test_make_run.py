"""`make run` as a user runs it: a subprocess on its own ports and data folder.

Shows the foundation's promise: all four services ready within 120 s, a posted event
visible as counter, progress and inbox item within 5 s, and Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tangible_devstack.processes import free_port, port_open
from tangible_devstack.scenario import (
    Clients,
    first_milestone,
    inbox_items,
    provision,
    send_report_generated,
    usage_counted_for,
)
from tangible_devstack.services import SERVICES
from tangible_devstack.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.long(45)]

ACCOUNT = "acct-run"
ACCOUNT_ON_PAGE = "acct-1"


async def _wait_for_line(process: asyncio.subprocess.Process, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    assert process.stdout is not None

    async def read() -> list[str]:
        while line := (await process.stdout.readline()).decode():  # type: ignore[union-attr]
            lines.append(line)
            if marker in line:
                return lines
        raise AssertionError(f"exited before '{marker}':\n{''.join(lines)}")

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError as error:
        raise AssertionError(f"no '{marker}' within {timeout}s:\n{''.join(lines)}") from error


async def test_make_run_serves_the_flow_and_stops_cleanly_on_ctrl_c() -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="tangible-make-run-"))
    ports = {spec.name: free_port() for spec in SERVICES}
    env = {
        **os.environ,
        "TANGIBLE_DATA_DIR": str(tmp_path),
        "TANGIBLE_KAFKA_PORT": str(free_port()),
        "TANGIBLE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TANGIBLE_POSTGRES_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **{f"{spec.env_prefix}PORT": str(ports[spec.name]) for spec in SERVICES},
    }
    for name in list(env):
        if name.endswith("_DATABASE_URL"):
            del env[name]
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tangible_devstack",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        lines = await _wait_for_line(process, "Ctrl-C stops everything", timeout=120)
        assert time.monotonic() - started < 120
        # the web components' demo page for an account of the dev tenant, served by notifications
        [page] = [line.strip() for line in lines if "/elements/demo#" in line]
        assert page.startswith(f"http://127.0.0.1:{ports['notifications']}/elements/demo#"), page
        fragment = dict(part.split("=", 1) for part in page.split("#", 1)[1].split("&"))
        assert fragment["account"] == ACCOUNT_ON_PAGE
        async with httpx.AsyncClient() as browser:
            served = await browser.get(page.split("#", 1)[0])
        assert served.status_code == 200 and "<tangible-value>" in served.text
        tokens = json.loads((tmp_path / "dev-tokens.json").read_text())
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['usage-ingest']}") as ingest,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['entitlements']}") as entitlements,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['rewards']}") as rewards,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['notifications']}") as notifications,
        ):
            clients = Clients(ingest, entitlements, rewards, notifications)
            for client in (ingest, entitlements, rewards, notifications):
                assert (await client.get("/readyz")).status_code == 200
                assert (await client.get("/docs")).status_code == 200
            await provision(clients, tokens["admin"], ACCOUNT)
            sent = await send_report_generated(clients, tokens["ingest"], ACCOUNT)
            assert sent.response.status_code == 202

            async def everything_visible() -> None:
                assert (await usage_counted_for(clients, tokens["read"], ACCOUNT, sent))["usage"] == 1
                assert (await first_milestone(clients, tokens["read"], ACCOUNT))["reached"]
                assert len(await inbox_items(clients, tokens["read"], ACCOUNT)) == 1

            await eventually(everything_visible, timeout=5)  # the foundation issue's promise
    finally:
        process.send_signal(signal.SIGINT)
        raw, _ = await asyncio.wait_for(process.communicate(), 90)
        output = raw.decode()
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert process.returncode == 0, output
    assert "[tangible] stopped" in output
    for name in ("TANGIBLE_KAFKA_PORT", "TANGIBLE_POSTGRES_PORT"):
        assert not port_open(int(env[name])), f"{name} still open after Ctrl-C"
    assert not any(port_open(port) for port in ports.values())
