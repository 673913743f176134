"""CloudEvents Kafka protocol binding, binary content mode.

Hand-written rather than taken from the CloudEvents SDK: the binding is a dozen header
names, and the SDK's generic conversion costs more than the rest of the ingest hot path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tangible_schemas.base import EventData
from tangible_schemas.envelope import CloudEvent
from tangible_schemas.registry import EVENT_TYPES, topic_for

Headers = list[tuple[str, bytes]]

_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "tenantid")


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    topic: str
    key: bytes
    value: bytes
    headers: Headers


class UndecodableRecord(ValueError):
    """A record that is not a valid Tangible event; `reason` is machine-readable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def to_record(event: CloudEvent[EventData], extra_headers: Iterable[tuple[str, bytes]] = ()) -> KafkaRecord:
    headers: Headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event.id.encode()),
        ("ce_source", event.source.encode()),
        ("ce_type", event.type.encode()),
        ("ce_subject", event.subject.encode()),
        ("ce_time", event.time.isoformat().encode()),
        ("ce_tenantid", event.tenantid.encode()),
        ("content-type", b"application/json"),
        *extra_headers,
    ]
    return KafkaRecord(
        topic=topic_for(event.type).name,
        key=event.record_key.encode(),
        value=event.data.__pydantic_serializer__.to_json(event.data),
        headers=headers,
    )


def header_map(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in headers}


def event_type_of(headers: Iterable[tuple[str, bytes]]) -> str | None:
    for name, value in headers:
        if name == "ce_type":
            return value.decode("utf-8", "replace")
    return None


_ENVELOPES: dict[type[EventData], type[CloudEvent[Any]]] = {}


def _envelope(data_class: type[EventData]) -> type[CloudEvent[Any]]:
    """`CloudEvent[data_class]`, memoised: pydantic's own generic cache lookup costs more per
    record than the rest of decoding on a consumer's hot path."""
    envelope = _ENVELOPES.get(data_class)
    if envelope is None:
        envelope = _ENVELOPES[data_class] = CloudEvent[data_class]  # type: ignore[valid-type]
    return envelope


def from_record(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> CloudEvent[EventData]:
    """Decode a binary-mode record; raises UndecodableRecord with a reason."""
    attrs = header_map(headers)
    missing = [name for name in _ATTRIBUTES if f"ce_{name}" not in attrs]
    if missing:
        raise UndecodableRecord("missing_attributes", ",".join(missing))
    data_class = EVENT_TYPES.get(attrs["ce_type"])
    if data_class is None:
        raise UndecodableRecord("unknown_event_type", attrs["ce_type"])
    try:
        data = data_class.model_validate_json(value or b"")
        if data.tenant_id != attrs["ce_tenantid"]:
            raise UndecodableRecord("tenant_mismatch", "ce_tenantid differs from data.tenant_id")
        return _envelope(data_class)(
            id=attrs["ce_id"],
            source=attrs["ce_source"],
            type=attrs["ce_type"],
            subject=attrs["ce_subject"],
            time=datetime.fromisoformat(attrs["ce_time"]),
            tenantid=attrs["ce_tenantid"],
            data=data,
        )
    except (ValidationError, ValueError) as error:
        raise UndecodableRecord("invalid_payload", str(error)[:500]) from error
