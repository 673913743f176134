"""CloudEvents Kafka protocol binding, binary content mode.

Hand-written rather than taken from the CloudEvents SDK: the binding is a dozen header
names, and the SDK's generic conversion costs more than the rest of the ingest hot path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from pydantic import ValidationError

from tangible_schemas.base import EventData
from tangible_schemas.envelope import CloudEvent
from tangible_schemas.registry import EVENT_TYPES, topic_for

Headers = list[tuple[str, bytes]]

_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "tenantid")
_ATTRIBUTE_HEADERS = tuple((name, f"ce_{name}") for name in _ATTRIBUTES)


# Record keys. `<tenant>/<subject>`, each part with `%` and `/` percent-encoded (`%25`, `%2F`)
# and nothing else changed, so the one unencoded `/` separates the parts and the key splits
# back to exactly what was joined. Ids are the vendor's own (an account may well be
# `org/team`), so refusing `/` would reject valid usage at ingest and strand existing
# accounts; and a key of parts with neither character is byte-identical to the former
# plain join, so every existing account keeps its partition (and its order) across the
# change. Every producer builds keys with `record_key`; consumers that need the parts use
# `parse_record_key` (never `split("/")`).
KEY_SEPARATOR = "/"
KEY_ENCODING = (
    "UTF-8 `<tenant>/<subject>`; in each part `%` is written `%25` and `/` is written `%2F` "
    "(nothing else is encoded), so the key splits back at its one unencoded `/`."
)


_KEY_ESCAPE = re.compile("%25|%2F")
_STRAY_PERCENT = re.compile("%(?!25|2F)")


def _escape_key_part(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F")


def _unescape_key_part(part: str) -> str:
    # one pass, so `%252F` reads back as `%2F`; any other `%` is not a key `record_key` made
    if _STRAY_PERCENT.search(part):
        raise ValueError(f"{part!r}: only %25 and %2F may appear in a record key part")
    return _KEY_ESCAPE.sub(lambda m: "%" if m.group() == "%25" else "/", part)


def record_key(tenant_id: str, subject: str) -> bytes:
    """The Kafka record key of an event about `subject` (an account, credential …)."""
    return f"{_escape_key_part(tenant_id)}{KEY_SEPARATOR}{_escape_key_part(subject)}".encode()


def parse_record_key(key: bytes) -> tuple[str, str]:
    """(tenant, subject) from a record key; ValueError if it is not one `record_key` makes."""
    tenant, separator, subject = key.decode("utf-8").partition(KEY_SEPARATOR)
    if not separator or KEY_SEPARATOR in subject:
        raise ValueError(f"{key!r} is not a <tenant>/<subject> record key")
    return _unescape_key_part(tenant), _unescape_key_part(subject)


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
        key=record_key(event.tenantid, event.subject),
        value=event.data.__pydantic_serializer__.to_json(event.data),
        headers=headers,
    )


def header_map(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in headers}


def attribute_of(headers: Iterable[tuple[str, bytes]], name: str) -> str | None:
    """One CloudEvents attribute of a binary-mode record (e.g. `ce_type`), without decoding it."""
    for header, value in headers:
        if header == name:
            return value.decode("utf-8", "replace")
    return None


def event_type_of(headers: Iterable[tuple[str, bytes]]) -> str | None:
    return attribute_of(headers, "ce_type")


@cache
def _envelope(data_class: type[EventData]) -> type[CloudEvent[EventData]]:
    """`CloudEvent[X]`, parametrised once per event type (pydantic's own lookup costs ~25 µs)."""
    return CloudEvent[data_class]  # type: ignore[valid-type]


def from_record(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> CloudEvent[EventData]:
    """Decode a binary-mode record; raises UndecodableRecord with a reason."""
    attrs = header_map(headers)
    missing = [name for name, header in _ATTRIBUTE_HEADERS if header not in attrs]
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
