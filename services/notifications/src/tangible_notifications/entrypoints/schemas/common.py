"""What the notifications API's DTOs share: strictness, address and time formats, channels."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

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
