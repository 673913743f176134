"""Unit tests of the runtime: no broker, no database, milliseconds each."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog


@pytest.fixture(autouse=True)
def captured_logs() -> Iterator[list[MutableMapping[str, Any]]]:
    """Log lines as dicts instead of rendered text: the console renderer formats a rich
    traceback for every logged failure, which costs more than the code under test."""
    with structlog.testing.capture_logs() as logs:
        yield logs
