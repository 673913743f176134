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


class CatalogItemNotFound(NotFound):
    code = "catalog-item-not-found"


class CatalogItemExists(Conflict):
    code = "catalog-item-exists"


class InvalidCatalogItem(Rejected):
    code = "invalid-catalog-item"


class ItemNotAvailable(Conflict):
    """Outside the item's active_from / active_until window."""

    code = "item-not-available"


class ItemOutOfStock(Conflict):
    code = "item-out-of-stock"


class ItemLimitReached(Conflict):
    code = "item-limit-reached"
