"""What happened to each recorded event: one `DeliveryReport` per event."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeliveryStatus(StrEnum):
    """The final state of one event; the first four are the server's words."""

    ACCEPTED = "accepted"  # durably in Kafka, counted once
    DUPLICATE = "duplicate"  # an earlier send (often an earlier attempt of this one) counted it
    CONFLICT = "conflict"  # the id was already used with a different payload: not counted
    REJECTED = "rejected"  # the server found the event invalid: not counted
    FAILED = "failed"  # never judged: retries ran out, or the request itself was refused


@dataclass(frozen=True, slots=True)
class Reason:
    """A machine-readable reason, as in usage-ingest's per-event `errors`."""

    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The outcome of one event, with the number of HTTP attempts its last batch took."""

    id: str
    status: DeliveryStatus
    errors: tuple[Reason, ...] = ()
    attempts: int = 1

    @property
    def delivered(self) -> bool:
        """True when the event is counted exactly once (accepted now or by an earlier send)."""
        return self.status in (DeliveryStatus.ACCEPTED, DeliveryStatus.DUPLICATE)
