"""The amount types and their JSON Schema state one rule: whatever the document calls valid
the server reads, and whatever it calls invalid the server refuses."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from tangible_rewards.entrypoints.schemas.amounts import NonZeroAmount, PositiveAmount

TYPES = {"positive": TypeAdapter(PositiveAmount), "nonzero": TypeAdapter(NonZeroAmount)}
EDGES: list[Any] = [
    *["", "0", "0.0", "0.00", "0.01", "0.1", "0.10", "0.001", "-0", "-0.01", "-1", "+1", "1", "01", "007"],
    *["1.", ".5", "1.5", "1.50", "1.505", "1e3", "1E3", "NaN", "Infinity", " 1", "1 ", "1\n", "1_000"],
    *["999999999999.99", "1000000000000", "1000000000000.0", "1000000000000.00", "1000000000000.01"],
    *["-1000000000000", "-1000000000000.01", "１２", "12,5"],
    *[0, 1, -1, 0.5, 0.07, 0.005, 1e-7, 12.345, 1e12, 1e12 + 0.01, -1e12, 1e15, 999999999999.99],
    *[True, False, None, [], {}],
]


def _samples() -> list[Any]:
    rnd = random.Random(20261206)
    drawn: list[Any] = []
    for _ in range(3000):
        x = rnd.choice(
            [
                rnd.randint(-(10**14), 10**14) / 100,
                rnd.randint(-(10**12), 10**12) * 0.01,
                rnd.uniform(-1e13, 1e13),
                round(rnd.uniform(-1e3, 1e3), rnd.randint(0, 4)),
            ]
        )
        drawn += [x, repr(x), f"{x:.2f}", f"{x:.3f}"]
    return EDGES + drawn


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_the_document_and_the_server_agree(kind: str) -> None:
    adapter = TYPES[kind]
    document = jsonschema_rs.validator_for(adapter.json_schema())
    disagree = []
    for value in _samples():
        try:
            adapter.validate_json(json.dumps(value))
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != document.is_valid(value):
            disagree.append((value, accepted))
    assert not disagree, disagree[:10]


def test_amounts_read_as_the_decimals_written() -> None:
    assert TYPES["positive"].validate_json("0.07") == Decimal("0.07")
    assert TYPES["positive"].validate_json('"12.50"') == Decimal("12.50")
    assert TYPES["nonzero"].validate_json('"-5"') == Decimal("-5")
    assert TYPES["positive"].dump_json(Decimal("12.50")) == b'"12.50"'
