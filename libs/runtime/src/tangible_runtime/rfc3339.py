"""A time given as text (a query parameter or a JSON string): RFC 3339 with its offset,
nothing else.

pydantic also reads a number (`0.5`, or the text "0.5") as a Unix time; a client that sent one
meant something else, and the OpenAPI document promises a `date-time` string, so a number is
refused (422)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_time_text(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and not _DATE_TIME.match(value)):
        raise ValueError("an RFC 3339 date-time, such as 2026-11-26T12:00:00Z")
    return value


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]
