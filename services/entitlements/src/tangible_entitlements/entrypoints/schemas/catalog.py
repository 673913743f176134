"""Catalog DTOs: features with meters and benefit mappings, plan and add-on versions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, model_validator
from pydantic.json_schema import SkipJsonSchema

from tangible_entitlements.domain.metering import value_path_problem
from tangible_entitlements.domain.model import Aggregation
from tangible_entitlements.entrypoints.schemas.common import KEY_PATTERN, Strict
from tangible_runtime.numbers import INTEGRAL

# `value_path_problem`'s rules, stated for clients (the model validator keeps its messages):
# dotted names, `quantity` and `user_id` have no fields, and user_id is no number to fold
_DOTTED_NAMES = r"^[^.\x00]+(\.[^.\x00]+)*$"
_VALUE_PATH: dict[str, Any] = {
    "pattern": _DOTTED_NAMES,
    "not": {"type": "string", "pattern": r"^(data\.)?(quantity|user_id)\."},
}
_USER_ID_IS_TEXT: dict[str, Any] = {
    "if": {"properties": {"aggregation": {"enum": ["sum", "max", "latest"]}}, "required": ["aggregation"]},
    "then": {"properties": {"value_path": {"not": {"type": "string", "pattern": r"^(data\.)?user_id$"}}}},
}


class MeterIn(Strict):
    model_config = ConfigDict(json_schema_extra=_USER_ID_IS_TEXT)

    event_type: str = Field(min_length=1, max_length=256, examples=["report.generated"])
    aggregation: Literal["count", "sum", "max", "unique_count", "latest"] = "count"
    value_path: str | None = Field(
        default=None,
        max_length=256,
        description="Dotted path into the event data (`data.` optional): `quantity` (the default "
        "for sum, max and latest), `user_id` (count or unique_count), or a property such as "
        "`data.pages` or `data.doc.pages`.",
        json_schema_extra=_VALUE_PATH,
    )
    reset_period: Literal["day", "week", "month", "quarter", "year", "never"] = "month"

    @model_validator(mode="after")
    def _path_can_resolve(self) -> MeterIn:
        # refused now rather than accepted and then counting zero, every event dead-lettered
        if self.value_path is not None:
            problem = value_path_problem(Aggregation(self.aggregation), self.value_path)
            if problem is not None:
                raise ValueError(problem)
        return self


Threshold = Annotated[StrictInt, Field(ge=1, le=1000, description="A percentage of the limit."), INTEGRAL]

# the meter rule stated for clients: `metered` features need a meter, the others have none
_METER_BY_KIND: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": "metered"}}, "required": ["kind"]},
    "then": {"required": ["meter"], "properties": {"meter": {"not": {"type": "null"}}}},
    "else": {"properties": {"meter": {"type": "null"}}},
}


class FeatureCreate(Strict):
    model_config = ConfigDict(json_schema_extra=_METER_BY_KIND)

    key: str = Field(min_length=1, max_length=128, pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    kind: Literal["boolean", "metered", "seats", "config"]
    meter: MeterIn | None = Field(default=None, description="Required for metered features, else none.")
    outcome: str = Field(default="", max_length=1000, description="Plain-language benefit.")
    impact_metric: str | None = Field(default=None, max_length=128, examples=["hours saved"])
    impact_per_unit: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    thresholds: list[Threshold] = Field(default=[50, 80, 100], max_length=10)

    @model_validator(mode="after")
    def _meter_for_metered(self) -> FeatureCreate:
        if (self.kind == "metered") != (self.meter is not None):
            raise ValueError("metered features need a meter, and only they have one")
        return self


class FeatureRead(FeatureCreate):
    pass


class FeatureValueIn(Strict):
    enabled: StrictBool = True
    limit: StrictFloat | None = Field(default=None, ge=0, le=1e15)
    hard: StrictBool = True
    config: Any = None


class CatalogItemCreate(Strict):
    key: str = Field(min_length=1, max_length=128, pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=256)
    features: dict[str, FeatureValueIn] = Field(default_factory=dict, max_length=500)
    price: StrictFloat = Field(default=0.0, ge=0, le=1e12)


class CatalogItemRead(BaseModel):
    key: str
    version: int
    kind: Literal["plan", "addon"]
    name: str
    status: Literal["draft", "published", "retired"]
    features: dict[str, FeatureValueIn]
    price: float


class FeatureUpdate(Strict):
    """The plain-language side of a feature; kind and meter stay as created."""

    name: Annotated[str, Field(min_length=1, max_length=256)] | SkipJsonSchema[None] = None
    outcome: Annotated[str, Field(max_length=1000)] | SkipJsonSchema[None] = None
    impact_metric: str | None = Field(default=None, max_length=128)
    impact_per_unit: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    thresholds: Annotated[list[Threshold], Field(max_length=10)] | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _thresholds(self) -> FeatureUpdate:
        _not_null(self, "name", "outcome", "thresholds")
        return self


def _not_null(update: BaseModel, *fields: str) -> None:
    """Omit a field to keep it; null may only clear fields that may be empty (the others leave
    null out of their document: `SkipJsonSchema[None]`)."""
    for field in fields:
        if field in update.model_fields_set and getattr(update, field) is None:
            raise ValueError(f"{field} cannot be null")


class CatalogItemUpdate(Strict):
    """Edit a draft version (published versions are immutable: 409)."""

    name: Annotated[str, Field(min_length=1, max_length=256)] | SkipJsonSchema[None] = None
    features: Annotated[dict[str, FeatureValueIn], Field(max_length=500)] | SkipJsonSchema[None] = None
    price: Annotated[StrictFloat, Field(ge=0, le=1e12)] | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _present(self) -> CatalogItemUpdate:
        _not_null(self, "name", "features", "price")
        return self


class GlossaryEntry(BaseModel):
    """One benefit in plain language, and the business metric its usage turns into."""

    feature_key: str
    name: str
    kind: str
    outcome: str
    impact_metric: str | None
    impact_per_unit: float | None
    unit: str | None = Field(description="What one unit of usage is (the meter's event type).")
