"""Child processes that die with their parent, and small waiting helpers."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM to the child when the parent dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def real_clock_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without libfaketime, for the infrastructure (Kafka, PostgreSQL).

    The suite can run as if it were another day (`tests/integration/test_any_date.py`):
    the Python processes then carry libfaketime in `LD_PRELOAD`. The broker and the
    database keep the real clock, as they would in production, where only the services'
    clock is an input."""
    env = dict(os.environ if base is None else base)
    preload = [lib for lib in env.get("LD_PRELOAD", "").split() if "faketime" not in lib]
    env = {name: value for name, value in env.items() if not name.startswith("FAKETIME")}
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    return env


def spawn(
    command: Sequence[str],
    *,
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = log_path.open("ab")
    return subprocess.Popen(
        list(command),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        preexec_fn=_die_with_parent,
        start_new_session=True,
    )


def terminate(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


_LOWEST_PORT = 10_000


def _ephemeral_ports() -> tuple[int, int]:
    """The range the kernel takes the local ports of outgoing connections from."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999  # Linux's default


def free_port() -> int:
    """A port nothing listens on now, for a process started later to bind. Taken below the
    kernel's ephemeral range: a port from that range can be handed to any outgoing
    connection (a Kafka or PostgreSQL client of another test) before the process binds it,
    and was ("address already in use" for a service of `make run` with two test workers).
    Reserved across processes for a while (`_reserve`): a port is often bound many seconds
    after it was chosen (the demo starts a broker and a database first), and a test worker
    choosing the same one meanwhile once answered the demo's requests with its own 404s."""
    low, _ = _ephemeral_ports()
    for _ in range(200):
        port = random.randint(_LOWEST_PORT, max(_LOWEST_PORT, low - 1))
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _reserve(port):
            return port
    with socket.socket() as sock:  # nothing free below the range: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_RESERVATIONS = Path(tempfile.gettempdir()) / f"tangible-ports-{os.getuid()}"
_RESERVED_FOR_SECONDS = 600.0


def _reserve(port: int) -> bool:
    """True if no process on this machine chose `port` in the last ten minutes; it is then
    this caller's for as long (an exclusively created file, renewed once it is stale)."""
    _RESERVATIONS.mkdir(exist_ok=True)
    marker = _RESERVATIONS / str(port)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - marker.stat().st_mtime < _RESERVED_FOR_SECONDS:
                return False
            os.utime(marker)  # stale: two renewing at once is as unlikely as the old race
            return True
        except FileNotFoundError:
            return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(
    port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None, what: str = "service"
) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not listen on port {port} within {timeout:.0f}s")
        time.sleep(0.1)
