"""Handlers: each owns its transaction (`async with uow:` … `await uow.commit()`)."""

from tangible_rewards.service_layer.handlers.catalogue import create_item, redeem_item, update_item
from tangible_rewards.service_layer.handlers.evaluation import apply_entitlement_events, evaluate_usage
from tangible_rewards.service_layer.handlers.ledger import adjust, redeem, void_grant
from tangible_rewards.service_layer.handlers.rules import (
    create_rule,
    revise_rule,
    set_rule_enabled,
    set_time_zone,
)
from tangible_rewards.service_layer.handlers.scheduled import (
    announce_expiring_credits,
    expire_credits,
    grant_anniversaries,
    prune,
    reset_broken_streaks,
)

__all__ = [
    "adjust",
    "announce_expiring_credits",
    "apply_entitlement_events",
    "create_item",
    "create_rule",
    "evaluate_usage",
    "expire_credits",
    "grant_anniversaries",
    "prune",
    "redeem",
    "redeem_item",
    "reset_broken_streaks",
    "revise_rule",
    "set_rule_enabled",
    "set_time_zone",
    "update_item",
    "void_grant",
]
