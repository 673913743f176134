"""Every service's OpenAPI document is a valid OpenAPI 3.1 document, whole: it validates
under openapi-spec-validator and every `$ref` names something the document defines (a
dangling one stops any tool from fuzzing the operation or generating its client).

The documents are built from the apps, which connect to nothing until started.
"""

from __future__ import annotations

import re
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
    # judged event by event: one valid event makes the batch acceptable (202, the others
    # rejected in its body), none is a 422
    batch = {
        "type": "array",
        "minItems": 1,
        "contains": one,
        "items": {},
        "description": "CloudEvents; each is accepted or rejected on its own (see the 202 body's results).",
    }
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


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_bounds_are_written_as_json_schema_keywords(document: dict[str, Any]) -> None:
    # pydantic writes a bound it applies around a validator under its own name (`ge`), which
    # no JSON Schema tool reads: the bound would hold on the server and nowhere else
    leaked = [
        s
        for s in _schemas(document)
        if s.get("type") in ("integer", "number") and {"ge", "le", "gt", "lt"} & set(s)
    ]
    assert not leaked, leaked[:3]


def test_every_integer_a_client_sends_is_bounded(document: dict[str, Any]) -> None:
    # an unbounded integer reaches PostgreSQL, which refuses what does not fit (a 500 or an
    # odd 4xx); bounded, it is a 422 from validation, and fuzzers see the same bounds
    unbounded: list[str] = []
    schemas = document["components"]["schemas"]
    request_bodies = {
        ref.rsplit("/", 1)[-1]
        for operation in (op for ops in document["paths"].values() for op in ops.values())
        for ref in _refs(operation.get("requestBody", {}))
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                for schema in _schemas(parameter.get("schema", {})):
                    if schema.get("type") == "integer" and "maximum" not in schema:
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    seen: set[str] = set()
    pending = sorted(request_bodies)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending += [ref.rsplit("/", 1)[-1] for ref in _refs(schemas[name])]
        for schema in _schemas(schemas[name]):
            if schema.get("type") == "integer" and "maximum" not in schema:
                unbounded.append(f"{name}: {schema}")
    assert not unbounded, unbounded


def test_features_state_which_kinds_have_a_meter() -> None:
    feature = entitlements(configure_logs=False).openapi()["components"]["schemas"]["FeatureCreate"]
    assert feature["if"] == {"properties": {"kind": {"const": "metered"}}, "required": ["kind"]}
    assert feature["then"]["required"] == ["meter"]
    assert feature["else"] == {"properties": {"meter": {"type": "null"}}}


def test_rewards_state_the_fields_each_kind_needs() -> None:
    schemas = rewards(configure_logs=False).openapi()["components"]["schemas"]
    needs = {
        "CreditsReward": {"kind", "credits"},
        "SupportLevelReward": {"kind", "support_level", "duration_days"},
        "EarlyAccessReward": {"kind", "feature_key", "duration_days"},
        "CustomReward": {"kind", "name"},
    }
    for name, required in needs.items():
        assert set(schemas[name]["required"]) == required, name
    reward = schemas["ThresholdRule"]["properties"]["reward"]
    assert reward["discriminator"]["propertyName"] == "kind"
    amount = schemas["RedemptionCreate"]["properties"]["amount"]["anyOf"]
    assert [branch["type"] for branch in amount] == ["number", "string"]
    assert amount[0]["multipleOf"] == 0.01 and "pattern" in amount[1]


_OPERATION_ID = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operation_ids(document: dict[str, Any]) -> list[str]:
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in _METHODS
    ]


def test_operation_ids_are_readable_and_unique(document: dict[str, Any]) -> None:
    """`<tag or service>.<handler>`: what a generated client names its methods after."""
    ids = _operation_ids(document)
    assert [i for i in ids if not _OPERATION_ID.match(i)] == []
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_entitlement_check_is_named_for_what_it_does() -> None:
    ids = _operation_ids(entitlements(configure_logs=False).openapi())
    assert "checks.check_entitlement" in ids
