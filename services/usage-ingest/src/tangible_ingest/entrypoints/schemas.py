"""Request and response DTOs of usage-ingest's HTTP API."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

# RFC 3339 date-time with a mandatory offset (CloudEvents `time`)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CORE = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data"}

Text256 = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UsageData(BaseModel):
    model_config = ConfigDict(extra="allow")

    quantity: float = Field(default=1.0, ge=0, le=1e15)
    user_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None

    @field_validator("quantity", mode="before")
    @classmethod
    def _real_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("quantity must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("quantity must be finite")
        return value


class CloudEventIn(BaseModel):
    """A CloudEvents 1.0 event in structured JSON form; `subject` is the account id."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: Text256
    source: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    type: Text256
    subject: Text256 = Field(description="The account the usage belongs to.")
    time: datetime | None = None
    datacontenttype: Literal["application/json"] | None = None
    dataschema: str | None = None
    data: UsageData = Field(default_factory=UsageData)

    @field_validator("time", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not _RFC3339.match(value):
            raise ValueError("time must be an RFC 3339 timestamp with an offset")
        return value

    @model_validator(mode="after")
    def _extension_names(self) -> CloudEventIn:
        for name in self.model_extra or {}:
            if name not in _CORE and not _EXTENSION_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid CloudEvents attribute name")
        return self


class ReasonOut(BaseModel):
    code: str
    field: str | None = None
    message: str


class EventResultOut(BaseModel):
    index: int
    id: str | None = None
    status: Literal["accepted", "duplicate", "conflict", "rejected"]
    errors: list[ReasonOut] = Field(default_factory=list)


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    results: list[EventResultOut]
