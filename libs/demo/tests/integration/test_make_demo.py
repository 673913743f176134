"""`make demo` end to end in a reduced mode: the demo finds no system on its ports, starts
`make run`'s stack itself, provisions, replays three weeks in 10 seconds, prints the
summary read from the services, and stops everything again."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import jwt
import pytest

from tangible_devstack.processes import free_port, port_open
from tangible_devstack.services import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"no match for {pattern!r} in:\n{text}"
    return float(match.group(1).replace(",", ""))


def _section(text: str, heading: str) -> str:
    """The summary's paragraph that starts with `heading` (up to the next blank line)."""
    start = text.index(heading)
    end = text.find("\n\n", start)
    return text[start : end if end > 0 else None]


async def test_make_demo_prints_what_the_services_made_of_the_simulated_usage() -> None:
    data = Path(tempfile.mkdtemp(prefix="tangible-demo-"))
    ports = {spec.name: free_port() for spec in SERVICES}
    env = {
        **os.environ,
        "TANGIBLE_DATA_DIR": str(data),
        "TANGIBLE_KAFKA_PORT": str(free_port()),
        "TANGIBLE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TANGIBLE_POSTGRES_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **{f"{spec.env_prefix}PORT": str(ports[spec.name]) for spec in SERVICES},
    }
    for name in list(env):
        if name.endswith("_DATABASE_URL") or name == "KAFKA_BOOTSTRAP_SERVERS":
            del env[name]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tangible_demo",
        "--accounts",
        "6",
        "--duration",
        "10",
        "--history-days",
        "21",
        "--volume",
        "0.3",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        raw, _ = await asyncio.wait_for(process.communicate(), 480)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = raw.decode()
    shutil.rmtree(data, ignore_errors=True)
    assert process.returncode == 0, output
    assert "no running system found" in output and "stopping the system it started" in output

    # usage-ingest's own count for the tenant is exactly what the simulator meant to be counted
    sent = _number(r"the simulator sent ([\d,]+) events", output)
    duplicates = _number(r"\(([\d,]+) deliberate duplicates\)", output)
    assert _number(r"usage-ingest accepted ([\d,]+) events", output) == sent - duplicates > 0
    assert _number(r"\(([\d,]+) duplicates not counted again", output) == duplicates
    # entitlements metered the usage and turned it into impact through the benefit mappings
    assert _number(r"entitlements counted: ([\d,]+) reports", output) > 0
    assert _number(r"~([\d,.]+) hours saved", output) > 0
    assert "Entitlements near their limits this month (check API)" in output
    # rewards evaluated milestones; notifications filled inboxes and signed webhooks
    assert _number(r"Milestones reached \(rewards\): ([\d,]+) rewards", output) > 0
    assert _number(r"credits granted: ([\d,.]+)", output) > 0
    # customer-success signals: counted from the CSM webhook, or said plainly that this build
    # of entitlements cannot emit them yet
    signals = _section(output, "Customer-success signals")
    assert re.search(r"upgrade suggestions: (\d+|none in this run|none; this build)", signals), signals
    assert re.search(r"renewals at risk: (\d+|none in this run|none; this build)", signals), signals
    # a renewal reminder whose impact note notifications wrote from the account's real figures
    renewal = _section(output, "Renewal reminder with its impact note")
    assert "Your renewal is" in renewal and "This term your team generated" in renewal, renewal
    assert _number(r"In-app inbox: ([\d,]+) items", output) > 0
    received = _number(r"Webhooks received by the demo's endpoint \S+: ([\d,]+)", output)
    assert received > 0
    assert _number(r"([\d,]+) Standard Webhooks signatures verified", output) == received
    assert _number(r"signatures verified, ([\d,]+) rejected", output) == 0
    assert f"{received:.0f} succeeded" in output  # notifications' delivery log agrees with the receiver
    # the customer's view: the demo page with a portal token minted over HTTP, not with the key
    page = re.search(
        r"See it as customer (\S+) does.*\n  (http://127\.0\.0\.1:(\d+)/elements/demo#\S+)", output
    )
    assert page is not None, output[-2000:]
    fragment = dict(part.split("=", 1) for part in page.group(2).split("#", 1)[1].split("&"))
    assert fragment["account"] == page.group(1) and int(page.group(3)) == ports["notifications"]
    claims = jwt.decode(fragment["token"], options={"verify_signature": False})
    assert (claims["knd"], claims["acc"], claims["prm"]) == ("portal", page.group(1), ["redeem"])
    assert not any(port_open(port) for port in ports.values())
