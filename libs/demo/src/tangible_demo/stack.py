"""The system the demo talks to: the one `make run` serves, or one the demo starts itself.

A running system is found by its `/readyz` on the configured ports (`<SERVICE>_PORT`,
default 8001–8004). If none answers, the demo starts `python -m tangible_devstack run` in
the background and stops it (Ctrl-C, as a user would) when it is done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tangible_devstack.paths import data_dir
from tangible_devstack.services import SERVICES
from tangible_runtime.auth import TokenIssuer

START_TIMEOUT = 240.0


@dataclass(frozen=True)
class Stack:
    urls: dict[str, str]  # service name → base URL
    issuer: TokenIssuer
    started_here: bool

    def token(self, tenant_id: str, scope: str, account_id: str | None = None) -> str:
        return self.issuer.issue(tenant_id=tenant_id, scopes=[scope], account_id=account_id).token


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _urls() -> dict[str, str]:
    return {spec.name: f"http://127.0.0.1:{spec.listen_port}" for spec in SERVICES}


def _issuer(data: Path) -> TokenIssuer:
    key = data / "auth" / "private.pem"
    if not key.exists():
        raise SystemExit(
            f"the services answer, but {key} is missing: the demo signs its own credentials with the "
            "key `make run` generated (run the demo from the checkout that runs `make run`, or set "
            "TANGIBLE_DATA_DIR)"
        )
    return TokenIssuer(key.read_text(), issuer="tangible")


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


@contextmanager
def system(*, keep_running: bool = False) -> Iterator[Stack]:
    """The running system, or one started for the demo (stopped afterwards unless `keep_running`)."""
    urls = _urls()
    ready = {name: _ready(url) for name, url in urls.items()}
    if all(ready.values()):
        _say("using the running system (" + ", ".join(f"{n} {u}" for n, u in urls.items()) + ")")
        yield Stack(urls, _issuer(data_dir()), started_here=False)
        return
    if any(ready.values()):
        missing = ", ".join(name for name, ok in ready.items() if not ok)
        raise SystemExit(
            f"some services answer and others do not ({missing}): stop `make run` or fix it first"
        )
    until = "kept running until Ctrl-C" if keep_running else "stopped at the end"
    _say(f"no running system found: starting `python -m tangible_devstack run` ({until})")
    log = data_dir() / "logs" / "demo-stack.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tangible_devstack", "run"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    try:
        _wait(process, urls, log)
        yield Stack(urls, _issuer(data_dir()), started_here=True)
        if keep_running:  # the caller said so before its last words (the page's URL)
            _wait_for_interrupt(process)
    finally:
        _stop(process)


def _wait(process: subprocess.Popen[bytes], urls: dict[str, str], log: Path) -> None:
    started = time.monotonic()
    while not all(_ready(url) for url in urls.values()):
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"`make run` exited with {process.returncode}:\n{tail}")
        if time.monotonic() - started > START_TIMEOUT:
            raise SystemExit(f"the system was not ready within {START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.5)
    _say(f"system ready in {time.monotonic() - started:.0f} s (log: {log})")


def _wait_for_interrupt(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait()
    except KeyboardInterrupt:
        pass


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        _say("stopping the system it started")
        process.send_signal(signal.SIGINT)  # what Ctrl-C does: services, broker and database stop cleanly
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
