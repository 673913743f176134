"""What the notifications API's DTOs share: strictness, address and time formats, channels."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from tangible_runtime.paging import Page, Paging

T = TypeVar("T")

EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
RuleChannel = Literal["inbox", "webhook", "email", "csm"]
Mode = Literal["immediate", "off", "daily", "weekly"]


def _email_address(value: str) -> str:
    try:
        validate_email(
            value,
            check_deliverability=False,  # no DNS on a request path
            globally_deliverable=False,  # intranet domains (`ops@intranet`) are addresses too
            test_environment=True,  # and so are `.test` ones, as RFC 6761 reserves them for tests
            allow_smtputf8=False,  # JSON Schema's `email` is ASCII (`idn-email` is the other one)
            allow_quoted_local=True,  # RFC 5321 mailboxes, as the format defines them
            allow_domain_literal=True,
        )
    except EmailNotValidError as error:
        raise ValueError(f"not an email address: {error}") from error
    return value


EmailAddress = Annotated[
    str, AfterValidator(_email_address), WithJsonSchema({"type": "string", "format": "email"})
]
"""An email address as JSON Schema's `email` format states it (RFC 5321 mailbox, ASCII),
checked with email-validator; kept as written."""


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
