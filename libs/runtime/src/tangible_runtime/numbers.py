"""Integers as JSON Schema states them, read the same way by every service.

JSON Schema's `integer` is a number with a zero fractional part: `3739.0` is one, `"3739"`
and `true` are not. Pydantic's strict int refuses `3739.0`, and its lax int also takes
`"3739"`; a strict int with `INTEGRAL` takes exactly what the documents promise:

    days: Annotated[StrictInt, Field(ge=1, le=366), INTEGRAL] = Field(description="...")

`INTEGRAL` comes last, after the bounds: bounds given after it (say in the field's own
`Field(ge=1)`) would be checked around the validator, and pydantic would write them into the
document as `ge`/`le` rather than `minimum`/`maximum` (tests/contracts guards against that).

Integers that reach PostgreSQL as `integer` (versions, counts) are bounded by `INT32_MAX`
in the documents, so that a huge number is a 422 from validation rather than a round trip
the database refuses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator

INT32_MAX = 2**31 - 1
"""The largest PostgreSQL `integer`: the upper bound of every version and id-like number."""


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # the strict int then refuses anything else: fractions, text, booleans


INTEGRAL = BeforeValidator(_integral)
"""Reads an integral float (`3.0`) as the integer it is; put it after a strict int's bounds."""

VersionPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="A version number, from 1.")]
"""A `{version}` path parameter: the versions PostgreSQL can hold, so others are a 422."""
