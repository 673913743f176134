"""Trace context in Kafka headers: each event carries the span it was written under, and a
consumed batch links to each distinct producer span once."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from tangible_runtime.telemetry import current_trace_headers, links_for

tracer = TracerProvider().get_tracer("test")


def traceparent(headers: list[tuple[str, bytes]]) -> str:
    return dict(headers)["traceparent"].decode()


def test_the_headers_follow_the_current_span_however_often_they_are_asked_for() -> None:
    assert current_trace_headers() == []  # no span, no context
    with tracer.start_as_current_span("a") as a:
        first = current_trace_headers()
        context = a.get_span_context()
        assert traceparent(first).split("-")[1:3] == [f"{context.trace_id:032x}", f"{context.span_id:016x}"]
        assert current_trace_headers() == first
        with tracer.start_as_current_span("b") as b:
            inner = b.get_span_context().span_id
            assert traceparent(current_trace_headers()).split("-")[2] == f"{inner:016x}"
        assert current_trace_headers() == first
        current_trace_headers().append(("x", b"y"))  # a caller's copy: the next one is whole
        assert current_trace_headers() == first
    assert current_trace_headers() == []


def test_a_batch_links_once_to_each_producer_span() -> None:
    with tracer.start_as_current_span("one"):
        one = current_trace_headers()
    with tracer.start_as_current_span("two"):
        two = current_trace_headers()
    links = links_for([one, one, two, [], one, two])
    assert [f"{link.context.span_id:016x}" for link in links] == [
        traceparent(one).split("-")[2],
        traceparent(two).split("-")[2],
    ]
    assert len(links_for([one, two], limit=1)) == 1
