"""OpenTelemetry: one tracer provider per process, trace context carried in Kafka headers.

Kafka spans are made here, one per published or consumed batch, rather than by the
aiokafka instrumentation, which makes one span per record: on the ingest hot path
(tens of thousands of records a second) that would cost more than the work itself.
Each record still carries its own `traceparent`, so a single event can be followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.trace import Link, Span, SpanContext, SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from tangible_runtime.settings import TelemetrySettings

TRACE_HEADERS = ("traceparent", "tracestate")


def setup_tracing(
    settings: TelemetrySettings, service_name: str, extra_processors: Sequence[SpanProcessor] = ()
) -> TracerProvider:
    """Install the SDK provider once per process; later calls add processors only.

    The SDK provider is installed even with no exporter so that every log line has a
    trace id; exporting is opt-in (`OTEL_TRACES_EXPORTER=otlp|console`).
    """
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(resource=service_resource(service_name))
        # outbound HTTP (reads of other services, webhooks) carries `traceparent` and has spans
        HTTPXClientInstrumentor().instrument()
        if settings.traces_exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otlp_endpoint
            exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces" if endpoint else None)
            provider.add_span_processor(BatchSpanProcessor(exporter))
        elif settings.traces_exporter == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    installed: set[int] = provider.__dict__.setdefault("_tangible_processors", set())
    for processor in extra_processors:
        if id(processor) not in installed:  # services sharing a process share the provider
            installed.add(id(processor))
            provider.add_span_processor(processor)
    return provider


def service_resource(service_name: str) -> Resource:
    """The process's resource: `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` as operators
    set them; the service's own name only where they name none."""
    detected = Resource.create()
    name = str(detected.attributes.get("service.name", ""))
    if not name or name.startswith("unknown_service"):
        detected = detected.merge(Resource({"service.name": service_name}))
    return detected


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


@contextmanager
def scheduled_span(name: str, attributes: Mapping[str, str | int] | None = None) -> Iterator[Span]:
    """A new trace for one round of scheduled work (a scheduler tick's job, a delivery
    round). Nothing caused it but the clock, so it has no parent, and without it the events
    the round writes to the outbox would carry no `traceparent` at all (the outbox copies
    the current span's context into every record)."""
    with tracer("tangible.scheduled").start_as_current_span(
        name, context=otel_context.Context(), kind=SpanKind.INTERNAL, attributes=attributes
    ) as span:
        yield span


_last_injected: tuple[SpanContext | None, tuple[tuple[str, bytes], ...]] = (None, ())


def current_trace_headers() -> list[tuple[str, bytes]]:
    """W3C trace context of the current span, as Kafka headers.

    A handler writes many events under one span (a metering batch: one per counter moved),
    so the headers of the last span asked for are kept: they depend on nothing else."""
    global _last_injected
    span_context = trace.get_current_span().get_span_context()
    last_context, last_headers = _last_injected
    if span_context is not last_context:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        last_headers = tuple((k, v.encode()) for k, v in carrier.items() if k in TRACE_HEADERS)
        _last_injected = (span_context, last_headers)
    return list(last_headers)


def context_from_headers(headers: Iterable[tuple[str, bytes]]) -> otel_context.Context:
    carrier = {k: v.decode("latin-1") for k, v in headers if k in TRACE_HEADERS}
    return propagate.extract(carrier)


def span_context_from_headers(headers: Iterable[tuple[str, bytes]]) -> SpanContext | None:
    span_context = trace.get_current_span(context_from_headers(headers)).get_span_context()
    return span_context if span_context.is_valid else None


def traceparent_of(headers: Iterable[tuple[str, bytes]]) -> bytes | None:
    return next((value for name, value in headers if name == "traceparent"), None)


def links_for(header_sets: Iterable[Iterable[tuple[str, bytes]]], limit: int = 128) -> list[Link]:
    """Span links to the producers of a consumed batch (deduplicated, capped). The events of
    one upstream request share its `traceparent`: each distinct one is parsed once."""
    seen: dict[tuple[int, int], Link] = {}
    parsed: set[bytes | None] = set()
    for headers in header_sets:
        headers = list(headers)
        raw = traceparent_of(headers)
        if raw in parsed:
            continue
        parsed.add(raw)
        span_context = span_context_from_headers(headers)
        if span_context is not None:
            seen.setdefault((span_context.trace_id, span_context.span_id), Link(span_context))
            if len(seen) >= limit:
                break
    return list(seen.values())


def instrument_engine(engine: AsyncEngine) -> None:
    """Trace this engine's statements (per engine: the instrumentor's global hooks would
    trace every engine of every service sharing a test process, twice)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    connections = get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(trace.get_tracer("tangible.sqlalchemy"), engine.sync_engine, connections)  # type: ignore[no-untyped-call]
