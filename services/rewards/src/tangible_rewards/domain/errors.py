"""Errors of the rewards domain."""

from __future__ import annotations

from tangible_runtime.domain import Conflict, NotFound, Rejected


class RuleNotFound(NotFound):
    code = "rule-not-found"


class RuleAlreadyExists(Conflict):
    code = "rule-already-exists"


class InvalidRule(Rejected):
    code = "invalid-rule"


class InvalidTimeZone(Rejected):
    code = "invalid-time-zone"


class InsufficientCredits(Rejected):
    code = "insufficient-credits"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"


class RewardNotFound(NotFound):
    code = "reward-not-found"


class GrantNotVoidable(Conflict):
    code = "grant-not-voidable"
