"""A strict int with INTEGRAL reads what JSON Schema calls an integer, and nothing else."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, StrictInt, TypeAdapter, ValidationError

from tangible_runtime.numbers import INT32_MAX, INTEGRAL

Version = TypeAdapter(Annotated[StrictInt, Field(ge=1, le=INT32_MAX), INTEGRAL])


@pytest.mark.parametrize(
    ("raw", "value"), [("3739", 3739), ("3739.0", 3739), ("1e3", 1000), ("2147483647", INT32_MAX)]
)
def test_integers_and_integral_floats_are_read(raw: str, value: int) -> None:
    read = Version.validate_json(raw)
    assert read == value and type(read) is int


@pytest.mark.parametrize("raw", ['"3739"', "true", "3.5", "0", "2147483648", "1e300", '"1e3"', "null"])
def test_text_booleans_fractions_and_out_of_bounds_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        Version.validate_json(raw)


def test_the_document_states_the_bounds() -> None:
    assert Version.json_schema() == {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
