"""The CloudEvents 1.0 envelope around every event Tangible publishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar, cast

from pydantic import Field

from tangible_schemas.base import EventData, WireModel

DataT = TypeVar("DataT", bound=EventData)


class CloudEvent(WireModel, Generic[DataT]):
    """CloudEvents 1.0 attributes plus the `tenantid` extension attribute."""

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    tenantid: str = Field(description="Extension attribute: the owning tenant.")
    data: DataT


def new_event(
    data: DataT,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent[DataT]:
    """Wrap `data` in an envelope; the type comes from the payload class."""
    event: CloudEvent[EventData] = CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.event_type,
        subject=data.subject,
        time=time or datetime.now(UTC),
        tenantid=data.tenant_id,
        data=data,
    )
    return cast("CloudEvent[DataT]", event)
