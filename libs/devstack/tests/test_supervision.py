"""`make run`'s supervision: crashed services come back with backoff; the watchdog sees
when the `make` above it was told to stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tangible_devstack.services import ServiceSpec
from tangible_devstack.supervisor import Backoff, Supervisor, describe_exit
from tangible_devstack.watchdog import ParentWatchdog, _stat

SPEC = ServiceSpec("crashy", "crashy", 0, "CRASHY_")


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(first=1, factor=2, ceiling=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert describe_exit(-9) == "was killed by SIGKILL" and describe_exit(3) == "exited with code 3"


def test_an_exited_service_is_restarted_after_its_backoff_and_said_so(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(Backoff(first=0.2, ceiling=0.4), say=said.append, is_ready=lambda _: True)
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    service = supervisor.start(SPEC, command, {}, tmp_path / "crashy.log")
    try:
        first = service.process
        first.kill()
        first.wait(5)
        supervisor.tick()
        assert said == [
            f"crashy was killed by SIGKILL; restarting it in 0.2s "
            f"(restart 1, backoff up to 0.4s; log: {tmp_path / 'crashy.log'})"
        ]
        supervisor.tick()
        assert service.process is first  # still backing off
        time.sleep(0.25)
        supervisor.tick()
        assert service.process is not first and service.process.poll() is None
        assert said[-1] == f"crashy restarted (pid {service.process.pid})"
        supervisor.tick()
        assert said[-1] == "crashy is ready again (restart 1)"
        service.process.kill()
        service.process.wait(5)
        supervisor.tick()
        assert "restarting it in 0.4s (restart 2" in said[-1]  # a crash loop backs off further
    finally:
        supervisor.stop_all(timeout=5)
    assert service.process.poll() is not None


def test_the_watchdog_stops_once_the_watched_process_handles_a_fatal_signal_or_exits() -> None:
    # stands in for make inside its SIGINT handler: SIGINT blocked while it waits
    blocker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "print(flush=True); sys.stdin.readline()\n"
            "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
            "print(flush=True); time.sleep(60)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert blocker.stdout is not None and blocker.stdin is not None
        blocker.stdout.readline()
        found = _stat(blocker.pid)
        assert found is not None
        watchdog = ParentWatchdog(found[0])
        assert watchdog.reason_to_stop() is None
        blocker.stdin.write(b"\n")
        blocker.stdin.flush()
        blocker.stdout.readline()
        assert watchdog.reason_to_stop() is None  # once may be make starting a job
        assert watchdog.reason_to_stop() == f"{found[0].name} (pid {blocker.pid}) received SIGINT"
        blocker.send_signal(signal.SIGKILL)
        blocker.wait(5)
        assert watchdog.reason_to_stop() == f"{found[0].name} (pid {blocker.pid}) exited"
    finally:
        blocker.kill()


def test_the_watchdog_follows_the_nearest_make_above_it(tmp_path: Path) -> None:
    probe = "from tangible_devstack.watchdog import watched_ancestor as w; print(w().name)"
    makefile = tmp_path / "Makefile"
    # through a shell, as uv stands between make and python in `make run`
    makefile.write_text(f"run:\n\t/bin/sh -c '{sys.executable} -c \"{probe}\"; true'\n")
    shown = subprocess.run(["make", "-s", "-f", str(makefile), "run"], capture_output=True, check=True)
    assert shown.stdout.decode().strip() == "make"
