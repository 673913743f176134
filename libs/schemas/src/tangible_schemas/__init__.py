"""Tangible wire contracts. Frozen models, `extra="forbid"`; add fields, never rename."""

from tangible_schemas.base import AccountEvent, EventData, WireModel
from tangible_schemas.binding import (
    KafkaRecord,
    UndecodableRecord,
    from_record,
    parse_record_key,
    record_key,
    to_record,
)
from tangible_schemas.envelope import CloudEvent, new_event
from tangible_schemas.registry import EVENT_TYPES, TOPICS, Topic, dead_letter_topic, topic_for

__all__ = [
    "EVENT_TYPES",
    "TOPICS",
    "AccountEvent",
    "CloudEvent",
    "EventData",
    "KafkaRecord",
    "Topic",
    "UndecodableRecord",
    "WireModel",
    "dead_letter_topic",
    "from_record",
    "new_event",
    "parse_record_key",
    "record_key",
    "to_record",
    "topic_for",
]
