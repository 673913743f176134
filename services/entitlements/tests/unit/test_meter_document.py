"""The meter's document states value_path's rules as the server applies them, and the
feature's document which kinds have a meter: what one accepts, the other does."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from tangible_entitlements.entrypoints.schemas.catalog import FeatureCreate, MeterIn

PATHS = [
    *["quantity", "user_id", "data.quantity", "data.user_id", "pages", "data.pages", "data.doc.pages"],
    *["", ".", "data.", "data", "data..pages", "pages.", ".pages", "a\x00b", "quantity.x", "user_id.x"],
    *["data.quantity.x", "data.data.user_id", "user_idx", "quantityx.y", "x.user_id", None],
]
AGGREGATIONS = ["count", "sum", "max", "unique_count", "latest", None]


def _agree(adapter: TypeAdapter[Any], schema: dict[str, Any], bodies: list[dict[str, Any]]) -> list[Any]:
    document = jsonschema_rs.validator_for(schema)
    disagree = []
    for body in bodies:
        try:
            adapter.validate_python(body)
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != document.is_valid(body):
            disagree.append((body, accepted))
    return disagree


def test_value_paths() -> None:
    bodies = [
        {
            "event_type": "e",
            **({"value_path": p} if p is not None else {}),
            **({"aggregation": a} if a else {}),
        }
        for p, a in itertools.product(PATHS, AGGREGATIONS)
    ]
    adapter = TypeAdapter(MeterIn)
    assert not _agree(adapter, adapter.json_schema(), bodies)


@pytest.mark.parametrize("kind", ["boolean", "metered", "seats", "config"])
def test_meters_by_kind(kind: str) -> None:
    base = {"key": "f", "name": "F", "kind": kind}
    bodies: list[dict[str, Any]] = [base, {**base, "meter": None}, {**base, "meter": {"event_type": "e"}}]
    adapter = TypeAdapter(FeatureCreate)
    schema = adapter.json_schema(ref_template="#/$defs/{model}")
    assert not _agree(adapter, schema, bodies)
