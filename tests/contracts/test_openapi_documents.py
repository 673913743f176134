"""Every service's OpenAPI document is a valid OpenAPI 3.1 document, whole: it validates
under openapi-spec-validator and every `$ref` names something the document defines (a
dangling one stops any tool from fuzzing the operation or generating its client).

The documents are built from the apps, which connect to nothing until started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate

from tangible_entitlements.bootstrap import bootstrap as entitlements
from tangible_ingest.bootstrap import bootstrap as usage_ingest
from tangible_notifications.bootstrap import bootstrap as notifications
from tangible_rewards.bootstrap import bootstrap as rewards

SERVICES: dict[str, Callable[..., FastAPI]] = {
    "usage-ingest": usage_ingest,
    "entitlements": entitlements,
    "rewards": rewards,
    "notifications": notifications,
}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolves(document: dict[str, Any], ref: str) -> bool:
    assert ref.startswith("#/"), f"{ref}: only local references are expected"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.fixture(scope="module", params=sorted(SERVICES))
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    app = SERVICES[request.param](configure_logs=False)
    return app.openapi()


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises with the first violation's path


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    dangling = sorted({ref for ref in _refs(document) if not _resolves(document, ref)})
    assert not dangling, dangling


def test_usage_ingest_documents_the_events_it_accepts() -> None:
    document = usage_ingest(configure_logs=False).openapi()
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    one = {"$ref": "#/components/schemas/CloudEventIn"}
    batch = {"type": "array", "items": one, "minItems": 1}
    assert content["application/cloudevents+json"]["schema"] == one
    assert content["application/cloudevents-batch+json"]["schema"] == batch
    assert content["application/json"]["schema"] == {"oneOf": [one, batch]}
    event = document["components"]["schemas"]["CloudEventIn"]
    assert event["required"] == ["specversion", "id", "source", "type", "subject"]
    assert event["properties"]["data"] == {"$ref": "#/components/schemas/UsageData"}
    headers = document["paths"]["/v1/events"]["post"]["responses"]["202"]["headers"]
    assert headers["RateLimit"]["schema"] == {"type": "string"}


def test_redemptions_declare_the_idempotency_key_they_require() -> None:
    operation = rewards(configure_logs=False).openapi()["paths"]["/v1/accounts/{account_id}/redemptions"][
        "post"
    ]
    headers = [p for p in operation["parameters"] if p["in"] == "header"]
    assert headers == [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": headers[0]["description"],
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ]
    assert "400" in operation["responses"]
