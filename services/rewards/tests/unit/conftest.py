"""Fixtures of the handler tests."""

from __future__ import annotations

import pytest

from services.rewards.tests.unit.harness import Harness
from tangible_runtime.domain import ManualClock


@pytest.fixture
def harness(clock: ManualClock) -> Harness:
    return Harness(clock)
