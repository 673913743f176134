"""Rows → the dataclasses repositories return: each field from the column of its name."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import RowMapping

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")


def from_row(cls: type[Record], row: RowMapping, **converted: Any) -> Record:
    """`cls` from the row's columns named like its fields; `converted` supplies the fields
    whose column needs converting (a numeric to a float, an array to a tuple)."""
    return cls(**{f.name: converted[f.name] if f.name in converted else row[f.name] for f in fields(cls)})
