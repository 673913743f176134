"""DTO building blocks shared by the API's modules."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_time_text(value: Any) -> Any:
    if isinstance(value, str) and not _DATE_TIME.match(value):  # pydantic reads "0.5" as a Unix time
        raise ValueError("an RFC 3339 date-time, such as 2026-11-26T12:00:00Z")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]
"""A time given as text (a query parameter): RFC 3339 with its offset, nothing else."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(Strict):
    reason: str | None = Field(default=None, max_length=1000, description="Why; kept in the history.")
