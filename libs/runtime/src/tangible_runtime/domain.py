"""Pure-Python pieces the services' `domain/` packages share: base errors and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class DomainError(Exception):
    """A rule of the domain refused a command. `code` is machine-readable."""

    code = "domain-error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not-found"


class Conflict(DomainError):
    code = "conflict"


class Rejected(DomainError):
    """Well-formed but not acceptable (→ 422)."""

    code = "rejected"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand: no sleeping to reach a date."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment
