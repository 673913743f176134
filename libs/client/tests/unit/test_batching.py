"""Batches never exceed the event or byte limits, and always make progress."""

from __future__ import annotations

import pytest

from tangible_client.batching import Batching, Buffer, Pending
from tangible_client.events import EncodedEvent, encode_batch, encode_event


def pending(seq: int, padding: int = 0) -> Pending:
    event = encode_event(type="t", account_id="a", source="s", properties={"pad": "x" * padding})
    return Pending(seq, 0.0, event)


def fill(buffer: Buffer, count: int, padding: int = 0) -> None:
    for seq in range(1, count + 1):
        buffer.append(pending(seq, padding))


def drain(buffer: Buffer) -> list[list[EncodedEvent]]:
    batches = []
    while len(buffer):
        batches.append([p.event for p in buffer.take_batch()])
    return batches


def test_batches_are_cut_at_max_events_in_order() -> None:
    buffer = Buffer(Batching(max_events=500))
    fill(buffer, 1200)
    assert buffer.has_full_batch()
    batches = drain(buffer)
    assert [len(b) for b in batches] == [500, 500, 200]
    assert not buffer.has_full_batch()


def test_batches_are_cut_so_that_each_body_fits_max_bytes() -> None:
    batching = Batching(max_events=1000, max_bytes=20_000)
    buffer = Buffer(batching)
    fill(buffer, 100, padding=900)
    batches = drain(buffer)
    assert sum(len(b) for b in batches) == 100
    assert len(batches) > 1
    for batch in batches:
        body = encode_batch(batch)
        assert len(body) <= batching.max_bytes
    # a batch is only cut when the next event would not fit
    assert len(encode_batch(batches[0])) + len(batches[1][0].body) + 1 > batching.max_bytes


@pytest.mark.parametrize(
    "options",
    [{"max_events": 0}, {"max_events": 1001}, {"max_bytes": 1_048_577}, {"max_buffered": 10}, {"linger": -1}],
)
def test_batching_refuses_limits_the_server_or_buffer_cannot_honour(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Batching(**options)  # type: ignore[arg-type]
