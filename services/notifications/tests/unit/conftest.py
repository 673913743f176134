"""Fixtures of the handler unit tests: an empty in-memory store and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifications.tests.unit.fakes import Store
from tangible_runtime.domain import ManualClock


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 10, 12, tzinfo=UTC))
