"""Base classes shared by every wire event payload."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A frozen wire model: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EventData(WireModel):
    """The `data` of one CloudEvent. Subclasses set `event_type`."""

    event_type: ClassVar[str]
    summary: ClassVar[str] = ""

    tenant_id: str

    @property
    def subject(self) -> str:
        """CloudEvents `subject`; also the second half of the Kafka record key."""
        raise NotImplementedError


class AccountEvent(EventData):
    """An event about one account; ordered per `tenant/account` on Kafka."""

    account_id: str

    @property
    def subject(self) -> str:
        return self.account_id
