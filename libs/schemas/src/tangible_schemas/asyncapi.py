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
from tangible_schemas.registry import EVENT_CLASSES, TOPICS, topic_for

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
