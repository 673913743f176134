"""DTO building blocks shared by the API's modules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tangible_runtime.rfc3339 import Rfc3339 as Rfc3339  # re-exported: the API modules import it here

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(Strict):
    reason: str | None = Field(default=None, max_length=1000, description="Why; kept in the history.")
