"""How `make run`'s python process learns that `make` was told to stop.

Ctrl-C in a terminal reaches the whole foreground process group, but a SIGINT sent to the
`make` process alone (`kill -INT <make pid>`, an IDE's stop button) reaches no one else:
GNU make forwards only SIGTERM to its children. Worse, make does not die of it either: its
handler waits for the children to exit before re-raising the signal, so the children's
parent neither changes nor disappears, and PR_SET_PDEATHSIG (which only we could set, on
ourselves, and which fires on the death of the *direct* parent, `uv`) never fires.

What does change is visible in /proc: while make runs its fatal-signal handler, the signal
it handles is blocked (`SigBlk` in /proc/<pid>/status), which it never is otherwise. So the
watchdog follows the nearest `make` ancestor (else the direct parent) and reports a reason
to stop when that process is gone, was replaced (pid reuse), or is handling SIGINT, SIGTERM,
SIGHUP or SIGQUIT. Linux only; elsewhere it watches `os.getppid()` alone.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

_FATAL = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


@dataclass(frozen=True)
class ProcessId:
    pid: int
    name: str
    started: int  # clock ticks after boot: tells a reused pid from the original process


def _stat(pid: int) -> tuple[ProcessId, int] | None:
    """(the process, its parent pid) from /proc/<pid>/stat, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the name is in parentheses and may itself contain spaces or parentheses
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return ProcessId(pid, name, int(fields[19])), int(fields[1])


def blocked_signals(pid: int) -> set[int]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return set()
    for line in status.splitlines():
        if line.startswith("SigBlk:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask & (1 << (n - 1))}
    return set()


def watched_ancestor(pid: int | None = None) -> ProcessId | None:
    """The nearest `make` above `pid` (default: this process), else its direct parent."""
    found = _stat(os.getpid() if pid is None else pid)
    parent: ProcessId | None = None
    while found is not None:
        _, ppid = found
        if ppid <= 1:
            break
        found = _stat(ppid)
        if found is None:
            break
        parent = parent or found[0]
        if found[0].name == "make":
            return found[0]
    return parent


class ParentWatchdog:
    def __init__(self, watched: ProcessId | None = None) -> None:
        self.watched = watched if watched is not None else watched_ancestor()
        self._ppid = os.getppid()
        self._signalled = 0  # consecutive checks that saw a fatal signal blocked

    def reason_to_stop(self) -> str | None:
        """Why the system should stop now, or None while the parent is there and calm."""
        if os.getppid() != self._ppid:
            return f"parent process {self._ppid} exited"
        watched = self.watched
        if watched is None:
            return None
        now = _stat(watched.pid)
        if now is None or now[0] != watched:
            return f"{watched.name} (pid {watched.pid}) exited"
        handling = [signal.Signals(s).name for s in _FATAL if s in blocked_signals(watched.pid)]
        # twice in a row: make may block signals for an instant around starting a job
        self._signalled = self._signalled + 1 if handling else 0
        if self._signalled >= 2:
            return f"{watched.name} (pid {watched.pid}) received {handling[0]}"
        return None
