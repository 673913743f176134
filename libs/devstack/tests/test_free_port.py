"""Ports handed to processes started later: never the same one to two callers meanwhile."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tangible_devstack import processes


def test_a_port_one_caller_chose_is_not_handed_to_another_until_its_reservation_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "_RESERVATIONS", tmp_path)
    first = processes.free_port()
    # every later random pick lands on the port already handed out, as two test workers'
    # picks once did; the caller gets another one
    monkeypatch.setattr(random, "randint", lambda _low, _high: first)
    assert processes.free_port() != first

    stale = time.time() - processes._RESERVED_FOR_SECONDS - 1
    os.utime(tmp_path / str(first), (stale, stale))
    assert processes.free_port() == first
