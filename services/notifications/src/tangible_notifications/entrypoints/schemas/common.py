"""What the notifications API's DTOs share: strictness, address and time formats, channels."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from tangible_runtime.paging import Page, Paging

T = TypeVar("T")

EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
RuleChannel = Literal["inbox", "webhook", "email", "csm"]
Mode = Literal["immediate", "off", "daily", "weekly"]


def _time_text(value: Any) -> Any:
    if not isinstance(value, str | time):  # pydantic would read a number as seconds
        raise ValueError("a local time is written HH:MM or HH:MM:SS")
    return value


LocalTime = Annotated[
    time,
    BeforeValidator(_time_text),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UncountedPage(Page[T], Generic[T]):
    """A page of a list notifications does not count: items, limit and offset, as these
    lists have always answered. Counting would cost a scan of the delivery log (which only
    grows) on every page, for a figure no client reads, so `total` is never sent."""

    total: SkipJsonSchema[int] = Field(default=0, exclude=True)

    @classmethod
    def at(cls, items: list[T], paging: Paging) -> Self:
        return cls(items=items, limit=paging.limit, offset=paging.offset)
