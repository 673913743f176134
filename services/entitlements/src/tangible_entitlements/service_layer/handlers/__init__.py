"""Handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from tangible_entitlements.service_layer.handlers.catalog import (
    create_catalog_item,
    create_feature,
    edit_catalog_item,
    publish_catalog_item,
    retire_catalog_item,
    update_feature,
)
from tangible_entitlements.service_layer.handlers.grants import (
    apply_reward_grants,
    end_grant,
    expire_grants,
    grant_benefit,
)
from tangible_entitlements.service_layer.handlers.licenses import (
    add_addon,
    change_plan,
    change_status,
    create_license,
    import_licenses,
    remove_addon,
    renew_license,
)
from tangible_entitlements.service_layer.handlers.lifecycle import announce_renewals, save_policy
from tangible_entitlements.service_layer.handlers.metering import (
    expire_parked,
    record_usage,
    recover_thresholds_after_reset,
)
from tangible_entitlements.service_layer.handlers.risk import detect_renewal_risks
from tangible_entitlements.service_layer.handlers.seats import assign_seat, unassign_seat
from tangible_entitlements.service_layer.handlers.signals import suggest_upgrades
from tangible_entitlements.service_layer.handlers.trials import (
    announce_trials_ending,
    end_trial,
    expire_trials,
    start_trial,
)

__all__ = [
    "add_addon",
    "announce_renewals",
    "announce_trials_ending",
    "detect_renewal_risks",
    "end_trial",
    "expire_parked",
    "expire_trials",
    "save_policy",
    "start_trial",
    "suggest_upgrades",
    "apply_reward_grants",
    "assign_seat",
    "change_plan",
    "change_status",
    "create_catalog_item",
    "create_feature",
    "create_license",
    "edit_catalog_item",
    "end_grant",
    "expire_grants",
    "grant_benefit",
    "import_licenses",
    "publish_catalog_item",
    "record_usage",
    "recover_thresholds_after_reset",
    "remove_addon",
    "renew_license",
    "retire_catalog_item",
    "unassign_seat",
    "update_feature",
]
