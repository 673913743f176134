"""How events are grouped into requests, and the bounded buffer in front of them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tangible_client.events import EncodedEvent, batch_size

MAX_REQUEST_BYTES = 1_048_576  # usage-ingest's default limit per request


@dataclass(frozen=True, slots=True)
class Batching:
    """Batch and buffer sizes; a batch leaves when full, or `linger` seconds after its first event."""

    max_events: int = 500
    max_bytes: int = 1_000_000
    linger: float = 0.25
    max_buffered: int = 10_000  # events recorded but not yet settled; record() waits beyond this

    def __post_init__(self) -> None:
        if not 1 <= self.max_events <= 1000:
            raise ValueError("max_events must be within 1..1000 (usage-ingest's limit)")
        if not 1024 <= self.max_bytes <= MAX_REQUEST_BYTES:
            raise ValueError(f"max_bytes must be within 1024..{MAX_REQUEST_BYTES}")
        if self.linger < 0:
            raise ValueError("linger must not be negative")
        if self.max_buffered < self.max_events:
            raise ValueError("max_buffered must hold at least one full batch")


@dataclass(frozen=True, slots=True)
class Pending:
    """An event waiting in the buffer: its order and when it was recorded (loop time)."""

    seq: int
    recorded_at: float
    event: EncodedEvent


class Buffer:
    """FIFO of pending events that knows when a full batch is waiting."""

    def __init__(self, batching: Batching) -> None:
        self._batching = batching
        self._items: deque[Pending] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def append(self, item: Pending) -> None:
        self._items.append(item)
        self._bytes += len(item.event.body)

    def oldest(self) -> Pending | None:
        return self._items[0] if self._items else None

    def has_full_batch(self) -> bool:
        b = self._batching
        return len(self._items) >= b.max_events or batch_size(self._bytes, len(self._items)) >= b.max_bytes

    def take_batch(self) -> list[Pending]:
        """Remove the longest prefix within both limits (at least one event)."""
        b = self._batching
        batch: list[Pending] = []
        body_bytes = 0
        while self._items and len(batch) < b.max_events:
            size = len(self._items[0].event.body)
            if batch and batch_size(body_bytes + size, len(batch) + 1) > b.max_bytes:
                break
            batch.append(self._items.popleft())
            body_bytes += size
        self._bytes -= body_bytes
        return batch

    def take_all(self) -> list[Pending]:
        items = list(self._items)
        self._items.clear()
        self._bytes = 0
        return items
