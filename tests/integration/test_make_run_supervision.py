"""`make run` supervises its services like the chart's pods: a SIGKILLed service comes back
and answers /readyz; and a SIGINT sent to the `make` process alone (not its group) stops
every process it started."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from pathlib import Path

import httpx
import pytest

from tangible_devstack.processes import free_port, port_open
from tangible_devstack.services import SERVICES
from tangible_devstack.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.long(75)]
ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> dict[int, str]:
    """Every living process below `pid`, with its command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                try:
                    found[child] = (Path(f"/proc/{child}/cmdline").read_bytes()).replace(b"\0", b" ").decode()
                except OSError:
                    continue
                frontier.append(child)
    return found


def living(pids: dict[int, str]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def _gone(pids: list[int]) -> None:
    assert not living(dict.fromkeys(pids, "")), pids


class Output:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.lines: list[str] = []
        self._task = asyncio.create_task(self._read(process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode():
            self.lines.append(line)

    async def wait_for(self, marker: str, timeout: float) -> str:
        async def seen() -> str:
            found = [line for line in self.lines if marker in line]
            assert found, f"no '{marker}' yet:\n{''.join(self.lines)}"
            return found[0]

        return await eventually(seen, timeout=timeout, interval=0.2)


@pytest.mark.skipif(shutil.which("make") is None or not Path("/proc").is_dir(), reason="GNU make on Linux")
async def test_a_killed_service_is_restarted_and_sigint_to_make_alone_stops_everything() -> None:
    data = Path(tempfile.mkdtemp(prefix="tangible-supervision-"))
    ports = {spec.name: free_port() for spec in SERVICES}
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
        "TANGIBLE_DATA_DIR": str(data),
        "TANGIBLE_KAFKA_PORT": str(free_port()),
        "TANGIBLE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TANGIBLE_POSTGRES_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **{f"{spec.env_prefix}PORT": str(ports[spec.name]) for spec in SERVICES},
    }
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    make = await asyncio.create_subprocess_exec(
        "make",
        "--no-print-directory",
        "-C",
        str(ROOT),
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = Output(make)
    started: dict[int, str] = {}
    try:
        await output.wait_for("Ctrl-C stops everything", timeout=240)
        relaxed = "".join(output.lines)
        assert "Relaxed for local use" in relaxed and "NOTIFICATIONS_ALLOW_PRIVATE_TARGETS=true" in relaxed
        started = descendants(make.pid)
        [entitlements] = [pid for pid, cmd in started.items() if "-m tangible_entitlements all" in cmd]
        os.kill(entitlements, signal.SIGKILL)
        line = await output.wait_for("entitlements was killed by SIGKILL; restarting it in", timeout=10)
        assert "restart 1" in line
        await output.wait_for("entitlements is ready again", timeout=120)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['entitlements']}") as client:
            assert (await client.get("/readyz")).status_code == 200
        started = descendants(make.pid)
        assert entitlements not in started

        make.send_signal(signal.SIGINT)  # make alone: it forwards nothing to its children
        await asyncio.wait_for(make.wait(), 120)
    finally:
        if make.returncode is None:  # the test failed: stop what it started, then make
            left = descendants(make.pid)
            devstack = next((pid for pid, cmd in left.items() if "-m tangible_devstack run" in cmd), None)
            if devstack is not None:
                os.kill(devstack, signal.SIGTERM)  # stops the services, Kafka and PostgreSQL
                await eventually(lambda: _gone([devstack]), timeout=60)
            make.kill()
            await make.wait()
    text = "".join(output.lines)
    assert "received SIGINT; stopping" in text, text
    assert "[tangible] stopped" in text, text

    async def all_gone() -> None:
        alive = living(started)
        assert not alive, {pid: started[pid] for pid in alive}

    await eventually(all_gone, timeout=10)
    assert not any(port_open(port) for port in ports.values())
    for name in ("TANGIBLE_KAFKA_PORT", "TANGIBLE_POSTGRES_PORT"):
        assert not port_open(int(env[name])), f"{name} still open"
    shutil.rmtree(data, ignore_errors=True)
