"""Credit amounts: decimals with at most two places, written as a JSON number or a string.

One type for every amount the API reads (redemptions, adjustments, a reward's credits), so
that what the OpenAPI document states and what the server accepts are the same rule:

- a number: within the bounds and a multiple of 0.01 (`12.5`, `12.50`; not `12.505`, `1e-7`);
- a string: plain decimal notation, no sign but `-` on an adjustment's (never 0), no exponent, no
  leading zeros, no spaces, at most two places, within the bounds, which the pattern spells
  out (`"12.50"`; not `""`, `"1e3"`, `"+1"`, `"012"`, `".5"`, `"NaN"`).

The ledger stores `NUMERIC(20, 2)`: the bound (10^12) keeps every sum of amounts well inside.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

MAX_AMOUNT = Decimal(10**12)

_PLACES = r"(?:\.[0-9]{1,2})?"
_LIMIT = r"1000000000000(?:\.00?)?"  # exactly 10^12, the largest amount
POSITIVE_PATTERN = rf"^(?:[1-9][0-9]{{0,11}}{_PLACES}|0\.(?:0[1-9]|[1-9][0-9]?)|{_LIMIT})$"
"""Greater than 0, at most 10^12, at most two places: `0.01` … `1000000000000.00`."""
NONZERO_PATTERN = rf"^-?(?:[1-9][0-9]{{0,11}}{_PLACES}|0\.(?:0[1-9]|[1-9][0-9]?)|{_LIMIT})$"
"""From -10^12 to 10^12 but not 0, at most two places: what an adjustment may change."""

_POSITIVE = re.compile(POSITIVE_PATTERN)
_NONZERO = re.compile(NONZERO_PATTERN)


def _reader(pattern: re.Pattern[str]) -> Any:
    def read(value: Any) -> Any:
        if isinstance(value, Decimal):  # from Python (the domain), not from JSON
            return value
        if isinstance(value, bool):
            raise ValueError("an amount is a number or a decimal string, such as 12.50 or '12.50'")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError("an amount is a finite number")
            # the shortest text that reads back as this number: 0.07, not 0.07000000000000000666
            return Decimal(repr(value))
        if isinstance(value, str):
            if not pattern.fullmatch(value):
                raise ValueError(
                    "a decimal written plainly, at most two places and within the bounds, such as '12.50'"
                )
            try:
                return Decimal(value)
            except InvalidOperation as error:  # pragma: no cover - the pattern admits decimals only
                raise ValueError("not a decimal") from error
        raise ValueError("an amount is a number or a decimal string, such as 12.50 or '12.50'")

    return read


def _document(*, signed: bool) -> dict[str, Any]:
    bounds: dict[str, Any] = {"minimum": -1e12, "not": {"const": 0}} if signed else {"exclusiveMinimum": 0}
    return {
        "anyOf": [
            {"type": "number", **bounds, "maximum": 1e12, "multipleOf": 0.01},
            {"type": "string", "pattern": NONZERO_PATTERN if signed else POSITIVE_PATTERN},
        ]
    }


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("an adjustment changes the balance: not 0")
    return value


PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_reader(_POSITIVE)),
    Field(gt=0, le=MAX_AMOUNT, decimal_places=2),
    WithJsonSchema(_document(signed=False)),
]
"""A credit amount greater than 0 and at most 10^12, e.g. `12.5` or `"12.50"`."""

NonZeroAmount = Annotated[
    Decimal,
    BeforeValidator(_reader(_NONZERO)),
    Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=2),
    AfterValidator(_not_zero),
    WithJsonSchema(_document(signed=True)),
]
"""A signed credit amount other than 0, from -10^12 to 10^12, e.g. `-5` or `"-5.00"`."""
