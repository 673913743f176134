"""DTO building blocks shared by the API's modules."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Reason(Strict):
    reason: str | None = Field(default=None, max_length=1000, description="Why; kept in the history.")
