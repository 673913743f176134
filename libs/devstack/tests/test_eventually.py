"""`eventually`: which failures mean "not yet", and that the last one surfaces on timeout."""

from __future__ import annotations

import pytest

from tangible_devstack.testing import eventually


async def test_a_probe_not_yet_true_is_retried_whatever_way_it_reads_the_absence() -> None:
    found: list[str] = []
    failures = iter([AssertionError("empty"), KeyError("usage"), ValueError("not enough values")])

    async def probe() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        found.append("x")
        [only] = found
        return only

    assert await eventually(probe, timeout=5, interval=0) == "x"


async def test_the_last_failure_is_raised_once_time_is_up() -> None:
    attempts = 0

    async def probe() -> None:
        nonlocal attempts
        attempts += 1
        raise KeyError(f"attempt {attempts}")

    with pytest.raises(KeyError) as raised:
        await eventually(probe, timeout=0.05, interval=0.01)
    assert attempts > 1 and raised.value.args == (f"attempt {attempts}",)


async def test_other_errors_are_bugs_and_are_not_retried() -> None:
    attempts = 0

    async def probe() -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        await eventually(probe, timeout=5)
    assert attempts == 1
