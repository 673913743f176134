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
_COMMON = frozenset({"specversion", "id", "source", "type", "subject", "time", "data"})

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

    # extension attributes are allowed, named as CloudEvents names them (every core name is too)
    model_config = ConfigDict(
        extra="allow", json_schema_extra={"propertyNames": {"pattern": "^[a-z0-9]{1,20}$"}}
    )

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
        if not isinstance(value, str) or not _RFC3339.fullmatch(value):
            raise ValueError("time must be an RFC 3339 timestamp with an offset")
        return value

    @model_validator(mode="after")
    def _extension_names(self) -> CloudEventIn:
        for name in self.model_extra or {}:
            if name not in _CORE and not _EXTENSION_NAME.fullmatch(name):
                raise ValueError(f"'{name}' is not a valid CloudEvents attribute name")
        return self


EventFields = tuple[str, str, str, str, datetime | None, float, str | None, dict[str, Any]]
_MISSING = object()


def fast_fields(item: dict[str, Any]) -> EventFields | None:
    """The fields of an event `CloudEventIn` would accept, read without pydantic.

    Returns None on anything unusual, and the model then decides and explains why: this
    only takes the common, plainly valid case, at a fraction of the model's cost (a
    property test checks that it never accepts what the model rejects, nor reads other
    values)."""
    get = item.get
    event_id, source, kind, subject = get("id"), get("source"), get("type"), get("subject")
    if not (
        item.get("specversion") == "1.0"
        and type(event_id) is str
        and 0 < len(event_id) <= 256
        and type(source) is str
        and 0 < len(source) <= 1024
        and type(kind) is str
        and 0 < len(kind) <= 256
        and type(subject) is str
        and 0 < len(subject) <= 256
    ):
        return None
    time: datetime | None = None
    raw_time = item.get("time")
    if raw_time is not None:
        if type(raw_time) is not str or not _RFC3339.fullmatch(raw_time):
            return None
        try:
            time = datetime.fromisoformat(raw_time)
        except ValueError:
            return None
    for name in item:
        if name in _COMMON:
            continue
        value = item[name]
        if name == "datacontenttype":
            if value is not None and value != "application/json":
                return None
        elif name == "dataschema":
            if value is not None and type(value) is not str:
                return None
        elif not _EXTENSION_NAME.fullmatch(name):
            return None
    data = item.get("data", _MISSING)
    if data is _MISSING:
        return (event_id, source, kind, subject, time, 1.0, None, {})
    if type(data) is not dict:
        return None
    quantity = data.get("quantity", 1.0)
    if type(quantity) is int:
        quantity = float(quantity)
    if type(quantity) is not float or not 0 <= quantity <= 1e15:  # NaN fails both comparisons
        return None
    user_id = data.get("user_id")
    if user_id is not None and (type(user_id) is not str or not 0 < len(user_id) <= 256):
        return None
    properties = {k: v for k, v in data.items() if k != "quantity" and k != "user_id"}
    return (event_id, source, kind, subject, time, quantity, user_id, properties)


def model_fields(event: CloudEventIn) -> EventFields:
    data = event.data
    return (
        event.id,
        event.source,
        event.type,
        event.subject,
        event.time,
        data.quantity,
        data.user_id,
        dict(data.model_extra or {}),
    )


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
