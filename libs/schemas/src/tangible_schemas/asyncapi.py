"""Generate the AsyncAPI 3 document and JSON Schemas from the models.

`python -m tangible_schemas.asyncapi write` refreshes the checked-in files;
a test fails when they drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from tangible_schemas.binding import KEY_ENCODING
from tangible_schemas.consumers import CONSUMER_GROUPS
from tangible_schemas.registry import EVENT_CLASSES, TOPICS, dead_letter_topic, topic_for

PRODUCERS = {
    "tangible.usage.v1": "usage-ingest",
    "tangible.entitlements.v1": "entitlements",
    "tangible.rewards.v1": "rewards",
    "tangible.notifications.v1": "notifications",
    "tangible.credentials.v1": "credential administration (any service's admin CLI)",
}

_CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_tenantid"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string"},
        "ce_source": {"type": "string"},
        "ce_type": {"type": "string"},
        "ce_subject": {"type": "string", "description": "The account (or credential, endpoint) id."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_tenantid": {"type": "string"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context."},
    },
}


def _channel_id(topic_name: str) -> str:
    return topic_name.split(".")[1]


_DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers (ce_* and traceparent, when it had them), plus:",
    "required": ["dlq_consumer", "dlq_reason", "dlq_detail"],
    "properties": {
        "dlq_consumer": {"type": "string", "description": "The consumer group that refused it."},
        "dlq_reason": {
            "type": "string",
            "description": "Why, e.g. unknown_event_type, invalid_payload, handler_failed.",
        },
        "dlq_detail": {"type": "string", "maxLength": 1000, "description": "The error, cut."},
    },
}

SERVERS: dict[str, Any] = {
    "local": {
        "host": "127.0.0.1:19092",
        "protocol": "kafka",
        "description": "The embedded broker of `make run`.",
    },
    "production": {
        "host": "{bootstrap}",
        "protocol": "kafka-secure",
        "description": "Your cluster: KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL (SSL or SASL_SSL), "
        "KAFKA_SASL_MECHANISM; topic and group names carry KAFKA_TOPIC_PREFIX.",
        "variables": {"bootstrap": {"default": "kafka:9093", "description": "One host:port of the list."}},
    },
}


def _consumer_operations(channels: dict[str, Any], operations: dict[str, Any]) -> None:
    """A receive operation per consumer group and topic, and the group's dead-letter
    channel with the send operation that fills it."""
    for group in CONSUMER_GROUPS:
        wanted = None if group.events is None else {cls.__name__ for cls in group.events}
        for topic in group.topics:
            channel = _channel_id(topic.name)
            names = [m for m in channels[channel]["messages"] if wanted is None or m in wanted]
            operations[f"receive_{channel}_{group.name}"] = {
                "action": "receive",
                "summary": f"Consumer group {group.name} ({group.service}): {group.purpose}",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in names],
                "bindings": {"kafka": {"groupId": {"type": "string", "const": group.name}}},
            }
        dead = dead_letter_topic(group.name)
        channel = f"dlq-{group.name}"
        channels[channel] = {
            "address": dead.name,
            "description": f"{dead.description} Records {group.name} could not process, as they "
            "arrived, with the reason in dlq_* headers; replay them once the cause is fixed "
            "(docs/runbook.md). Partitions: 1.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        }
        operations[f"dead_letter_{group.name}"] = {
            "action": "send",
            "summary": f"Published by {group.service} when {group.name} refuses a record.",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/DeadLetter"}],
        }


_DEAD_LETTER_MESSAGE: dict[str, Any] = {
    "name": "dead_letter",
    "title": "DeadLetter",
    "summary": "A record a consumer refused: key and value unchanged, the reason in headers.",
    "headers": _DEAD_LETTER_HEADERS,
    "payload": {"description": "The original record's value, unchanged (possibly not JSON)."},
    "bindings": {"kafka": {"key": {"type": "string", "description": KEY_ENCODING}}},
}


def build_document() -> dict[str, Any]:
    _, schema = models_json_schema(
        [(cls, "serialization") for cls in EVENT_CLASSES],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(sorted(schema.get("$defs", {}).items()))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        channels[_channel_id(topic.name)] = {
            "address": topic.name,
            "description": f"{topic.description} Partitions: {topic.partitions}.",
            "messages": {},
        }
    for cls in EVENT_CLASSES:
        name = cls.__name__
        channel = _channel_id(topic_for(cls.event_type).name)
        messages[name] = {
            "name": cls.event_type,
            "title": name,
            "summary": cls.summary or (cls.__doc__ or "").strip(),
            "contentType": "application/json",
            "headers": _CE_HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": KEY_ENCODING}}},
        }
        channels[channel]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for topic in TOPICS:
        channel = _channel_id(topic.name)
        refs = [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in channels[channel]["messages"]]
        operations[f"publish_{channel}"] = {
            "action": "send",
            "summary": f"Published by {PRODUCERS[topic.name]}.",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": refs,
        }
    _consumer_operations(channels, operations)
    messages["DeadLetter"] = _DEAD_LETTER_MESSAGE
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Tangible events",
            "version": "1.0.0",
            "description": (
                "Every event the Tangible services exchange. CloudEvents 1.0 in Kafka binary "
                "content mode: attributes in ce_* headers, data as the JSON value, records "
                "keyed by tenant and subject, so that one account's events stay in order on "
                f"one partition. Record key: {KEY_ENCODING}"
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def json_schemas() -> dict[str, str]:
    """One standalone JSON Schema per event type, file name = event type."""
    return {
        f"{cls.event_type}.json": json.dumps(cls.model_json_schema(mode="serialization"), indent=2) + "\n"
        for cls in EVENT_CLASSES
    }


PACKAGE_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_PATH = PACKAGE_ROOT / "asyncapi.json"
JSONSCHEMA_DIR = PACKAGE_ROOT / "jsonschema"


def write() -> None:
    ASYNCAPI_PATH.write_text(render())
    JSONSCHEMA_DIR.mkdir(exist_ok=True)
    for stale in JSONSCHEMA_DIR.glob("*.json"):
        stale.unlink()
    for name, text in json_schemas().items():
        (JSONSCHEMA_DIR / name).write_text(text)


if __name__ == "__main__":
    if sys.argv[1:] == ["write"]:
        write()
    else:
        sys.stdout.write(render())
