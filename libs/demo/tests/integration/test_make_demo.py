"""`make demo` end to end in a reduced mode: the demo finds no system on its ports, starts
`make run`'s stack itself, provisions, replays three weeks in 10 seconds, prints the
summary read from the services and, last, the customer's page; the system keeps serving
that page (value, entitlements, milestones, rewards and inbox filled, in Chromium) until
Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.async_api import async_playwright, expect

from tangible_devstack.processes import free_port, port_open
from tangible_devstack.services import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.long(60), pytest.mark.timeout(600)]
CHROMIUM = os.environ.get("TANGIBLE_CHROMIUM", "/usr/bin/chromium")


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"no match for {pattern!r} in:\n{text}"
    return float(match.group(1).replace(",", ""))


def _contents(path: str) -> bytes:
    return Path(path).read_bytes()


def _section(text: str, heading: str) -> str:
    """The summary's paragraph that starts with `heading` (up to the next blank line)."""
    start = text.index(heading)
    end = text.find("\n\n", start)
    return text[start : end if end > 0 else None]


async def _lines_until(process: asyncio.subprocess.Process, marker: str) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while line := (await process.stdout.readline()).decode():
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError("the demo ended without its page:\n" + "".join(lines))


async def _page_is_filled(url: str) -> None:
    """The demo page in headless Chromium: every component shows the replayed weeks."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test-packages` installs Debian's")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(locale="en-US")
            await page.goto(url)
            for element in (
                "tangible-value",
                "tangible-entitlements",
                "tangible-milestones",
                "tangible-rewards",
            ):
                await expect(page.locator(f"{element}[state=ready]")).to_have_count(1, timeout=30_000)
            await expect(page.locator("tangible-inbox [part~=count]")).to_have_text(re.compile(r"^[1-9]\d*$"))
            await expect(page.locator("tangible-value [part~=headline]").first).to_contain_text("≈ ")
            await expect(page.locator("tangible-milestones [part~=bar-fill].done").first).to_be_attached()
            balance = await page.locator("tangible-rewards [part~=balance]").inner_text()
            assert float(balance.split()[0].replace(",", "")) > 0, balance
        finally:
            await browser.close()


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
        "--keep-running",  # as `make demo` runs it: the printed page keeps working
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        lines = await asyncio.wait_for(_lines_until(process, "/elements/demo#"), 480)
        # the page's URL is the last thing printed, and the system serves it afterwards
        await asyncio.sleep(2)
        still_serving = process.returncode is None  # (a name: mypy keeps no narrowing of it)
        assert still_serving, "".join(lines)
        assert lines[-1].strip().startswith("http://"), lines[-3:]
        await _page_is_filled(lines[-1].strip())
        # then its impact report: the files written, and a share link that answers while it runs
        report = "".join(await asyncio.wait_for(_lines_until(process, "share link"), 30))
        html = re.search(r"^  HTML: (\S+\.html)$", report, re.MULTILINE)
        pdf = re.search(r"^  PDF:  (\S+\.pdf)$", report, re.MULTILINE)
        link = re.search(
            r"^  share link \(read-only, no login, 7 days\): (http://127\.0\.0\.1:(\d+)/v1/shared-reports/\S+)$",
            report,
            re.MULTILINE,
        )
        assert html and pdf and link, report
        assert b"<svg" in _contents(html.group(1)) and _contents(pdf.group(1)).startswith(b"%PDF")
        assert Path(html.group(1)).is_relative_to(data) and int(link.group(2)) == ports["notifications"]
        async with httpx.AsyncClient() as client:
            shared = await client.get(link.group(1))  # no token: a share link needs no login
        assert shared.status_code == 200 and shared.headers["content-type"].startswith("text/html"), (
            shared.text
        )
        process.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = await asyncio.wait_for(process.communicate(), 120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = "".join(lines) + report + rest.decode()
    shutil.rmtree(data, ignore_errors=True)
    assert process.returncode == 0, output
    assert "no running system found" in output and "stopping the system it started" in output
    assert "keeps running for the page below (Ctrl-C stops it)" in output

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
