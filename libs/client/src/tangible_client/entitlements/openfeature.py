"""An OpenFeature provider backed by the SDK's local view (`pip install tangible-client[openfeature]`).

Targeting key = the account id. Flag key = the feature key, optionally with a field:
boolean flags read `has_access`; number flags read `remaining` (or `<feature>.limit`,
`<feature>.usage`, `<feature>.remaining`; unlimited is infinity for floats, a type mismatch
for integers); string and object flags read a config feature's `config`. Reasons:
TARGETING_MATCH for a fresh answer, STALE while the view cannot be kept fresh, ERROR with a
code otherwise (the client then returns the caller's default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from tangible_client.entitlements.model import (
    AccountNotFound,
    Check,
    CredentialRefused,
    EntitlementsError,
    FeatureNotFound,
)
from tangible_client.entitlements.sync import Entitlements

T = TypeVar("T")
NUMBER_FIELDS = ("remaining", "limit", "usage")
ERRORS: tuple[tuple[type[EntitlementsError], ErrorCode], ...] = (
    (FeatureNotFound, ErrorCode.FLAG_NOT_FOUND),
    (AccountNotFound, ErrorCode.INVALID_CONTEXT),
    (CredentialRefused, ErrorCode.PROVIDER_FATAL),
    (EntitlementsError, ErrorCode.GENERAL),
)


class _Mismatch(Exception):
    pass


def _error(default: T, code: ErrorCode, message: str) -> FlagResolutionDetails[T]:
    return FlagResolutionDetails(default, error_code=code, error_message=message, reason=Reason.ERROR)


class EntitlementsProvider(AbstractProvider):
    def __init__(self, entitlements: Entitlements) -> None:
        super().__init__()
        self._entitlements = entitlements

    def get_metadata(self) -> Metadata:
        return Metadata(name="tangible-entitlements")

    def _resolve(
        self,
        flag_key: str,
        default: T,
        context: EvaluationContext | None,
        read: Callable[[Check, str | None], T],
    ) -> FlagResolutionDetails[T]:
        account = context.targeting_key if context is not None else None
        if not account:
            return _error(default, ErrorCode.TARGETING_KEY_MISSING, "the targeting key is the account id")
        feature, _, field = flag_key.partition(".")
        try:
            found = self._entitlements.check(account, feature)
        except EntitlementsError as error:
            code = next(c for kind, c in ERRORS if isinstance(error, kind))
            return _error(default, code, str(error))
        if found.default:
            return _error(default, ErrorCode.GENERAL, "entitlements unavailable and no value known")
        try:
            value = read(found, field or None)
        except _Mismatch as error:
            return _error(default, ErrorCode.TYPE_MISMATCH, str(error))
        metadata: dict[str, bool | int | float | str] = {
            "kind": found.kind,
            "stale": found.stale,
            "optimistic": found.optimistic,
            "sources": ",".join(f"{s.kind}:{s.key}" for s in found.sources),
        }
        if found.as_of is not None:
            metadata["as_of"] = found.as_of.isoformat()
        reason = Reason.STALE if found.stale else Reason.TARGETING_MATCH
        variant = "granted" if found.has_access else "denied"
        return FlagResolutionDetails(value, reason=reason, variant=variant, flag_metadata=metadata)

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, lambda c, _: c.has_access)

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, evaluation_context, _number)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        def read(found: Check, field: str | None) -> int:
            value = _number(found, field)
            if math.isinf(value):
                raise _Mismatch("unlimited: ask for a float")
            return int(value)

        return self._resolve(flag_key, default_value, evaluation_context, read)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        def read(found: Check, _: str | None) -> str:
            if not isinstance(found.config, str):
                raise _Mismatch(f"'{found.feature_key}' has no string config")
            return found.config

        return self._resolve(flag_key, default_value, evaluation_context, read)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        def read(found: Check, _: str | None) -> Any:
            if not isinstance(found.config, dict | list):
                raise _Mismatch(f"'{found.feature_key}' has no object config")
            return found.config

        return self._resolve(flag_key, default_value, evaluation_context, read)


def _number(found: Check, field: str | None) -> float:
    name = field or "remaining"
    if name not in NUMBER_FIELDS:
        raise _Mismatch(f"number flags read one of {', '.join(NUMBER_FIELDS)}")
    if found.kind not in ("metered", "seats"):
        raise _Mismatch(f"'{found.feature_key}' is a {found.kind} feature: it has no {name}")
    value: float | None = getattr(found, name)
    return math.inf if value is None else float(value)
