"""Trials: a higher plan or an add-on in force for N days on top of a license.

A trial never rewrites the license's committed plan and add-ons while it runs: it is an
overlay (`License.trials`) that checks apply until its end. It *overrides* one slot of the
license — the plan for a plan trial, that add-on for an add-on trial — and remembers the
slot's committed value. Ending it (expiry or cancel) puts that value back, so a change made
to the overridden slot during the trial is undone too, while everything the trial did not
override (grants, seats, other add-ons, the term) stays as it is now. Converting makes the
trialled value the committed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tangible_entitlements.domain import licensing
from tangible_entitlements.domain.errors import (
    InvalidTrial,
    TrialConflict,
    TrialNotActive,
    TrialNotEligible,
)
from tangible_entitlements.domain.model import CatalogItem, License, TrialOverlay

ELIGIBILITY = ("once_per_account", "once_per_target", "unlimited")


@dataclass(frozen=True)
class InForce:
    """The plan and add-ons checks use at a moment, and which of them a trial put there."""

    plan_key: str
    plan_version: int
    addons: dict[str, int]
    plan_trial: TrialOverlay | None = None
    addon_trials: dict[str, TrialOverlay] | None = None


def in_force(license: License, at: datetime) -> InForce:
    """Running trials applied; trials past their end already rolled back (the scheduler
    writes the same rollback moments later, so a check never depends on it)."""
    if not license.trials:
        return InForce(license.plan_key, license.plan_version, license.addons)
    plan_key, plan_version, addons = license.plan_key, license.plan_version, dict(license.addons)
    plan_trial: TrialOverlay | None = None
    addon_trials: dict[str, TrialOverlay] = {}
    for trial in license.trials:
        running = at < trial.ends_at
        if trial.target_kind == "plan":
            if running:
                plan_key, plan_version, plan_trial = trial.target_key, trial.target_version, trial
            elif trial.restore_plan_key is not None and trial.restore_version is not None:
                plan_key, plan_version = trial.restore_plan_key, trial.restore_version
        elif running:
            addons[trial.target_key] = trial.target_version
            addon_trials[trial.target_key] = trial
        else:
            _put_addon(addons, trial.target_key, trial.restore_version)
    return InForce(plan_key, plan_version, addons, plan_trial, addon_trials)


def item_keys(license: License) -> set[tuple[str, int]]:
    """Every catalog version the license's checks may need (committed, trialled, restored)."""
    keys = {(license.plan_key, license.plan_version), *license.addons.items()}
    for trial in license.trials:
        keys.add((trial.target_key, trial.target_version))
        if trial.restore_plan_key is not None and trial.restore_version is not None:
            keys.add((trial.restore_plan_key, trial.restore_version))
        elif trial.target_kind == "addon" and trial.restore_version is not None:
            keys.add((trial.target_key, trial.restore_version))
    return keys


def committed(license: License) -> License:
    """The license without its trials (what the account has bought)."""
    return replace(license, trials=()) if license.trials else license


def affected_features(license: License, plan: CatalogItem | None, target: CatalogItem) -> frozenset[str]:
    """The feature set a trial changes: an add-on's features, or where a plan differs."""
    if target.kind == "addon":
        return frozenset(target.features)
    current = plan.features if plan is not None else {}
    keys = set(current) | set(target.features)
    return frozenset(k for k in keys if current.get(k) != target.features.get(k))


def check_eligible(policy: str, past: Iterable[tuple[str, str]], target: CatalogItem) -> None:
    """`past`: (kind, key) of every trial the account ever had."""
    history = list(past)
    if policy == "once_per_account" and history:
        raise TrialNotEligible("this account has already had a trial", eligibility=policy)
    if policy == "once_per_target" and (target.kind, target.key) in history:
        raise TrialNotEligible(f"this account has already trialled '{target.key}'", eligibility=policy)


def start(
    license: License,
    *,
    trial_id: str,
    target: CatalogItem,
    features: frozenset[str],
    active: Sequence[frozenset[str]],
    ends_at: datetime,
) -> License:
    """Put the trial on the license; one running trial per feature set (and per plan slot)."""
    licensing.require_changeable(license)
    if not license.status.grants_access:
        raise InvalidTrial(f"a {license.status.value} license cannot start a trial")
    if target.kind == "plan":
        if target.key == license.plan_key:
            raise InvalidTrial("a trial needs another plan than the license's own")
        if any(t.target_kind == "plan" for t in license.trials):
            raise TrialConflict("a plan trial is already running on this license")
        restore_key: str | None = license.plan_key
        restore_version: int | None = license.plan_version
    else:
        if target.key in license.addons:
            raise TrialConflict(f"add-on '{target.key}' is already on the license")
        restore_key, restore_version = None, None
    if not features:
        raise InvalidTrial(f"'{target.key}' would change nothing on this license")
    for running in active:
        if running & features:
            raise TrialConflict(
                "another running trial covers some of these features", features=sorted(running & features)
            )
    overlay = TrialOverlay(
        trial_id, target.kind, target.key, target.version, ends_at, restore_key, restore_version
    )
    return replace(license, trials=(*license.trials, overlay))


def _find(license: License, trial_id: str) -> TrialOverlay:
    overlay = next((t for t in license.trials if t.id == trial_id), None)
    if overlay is None:
        raise TrialNotActive(f"trial '{trial_id}' is not running on this license")
    return overlay


def _put_addon(addons: dict[str, int], key: str, version: int | None) -> None:
    if version is None:
        addons.pop(key, None)
    else:
        addons[key] = version


def _without(license: License, overlay: TrialOverlay) -> License:
    return replace(license, trials=tuple(t for t in license.trials if t.id != overlay.id))


def _rolled_back(license: License, overlay: TrialOverlay) -> License:
    if overlay.target_kind == "plan":
        assert overlay.restore_plan_key is not None and overlay.restore_version is not None
        rolled = replace(license, plan_key=overlay.restore_plan_key, plan_version=overlay.restore_version)
    else:
        addons = dict(license.addons)
        _put_addon(addons, overlay.target_key, overlay.restore_version)
        rolled = replace(license, addons=addons)
    return _without(rolled, overlay)


def roll_back(license: License, trial_id: str) -> License:
    """Expiry or cancel: the overridden slot gets its pre-trial value back, in the license
    and, if it is suspended or revoked, in the state that reinstating would restore."""
    overlay = _find(license, trial_id)
    after = _rolled_back(license, overlay)
    prior = license.prior_state
    if prior is not None and any(t.get("id") == trial_id for t in prior.get("trials") or ()):
        users = prior.get("assigned_users", [])
        restored = licensing.from_snapshot({k: v for k, v in prior.items() if k != "assigned_users"})
        after = replace(after, prior_state=licensing.snapshot(_rolled_back(restored, overlay), users=users))
    return after


def convert(license: License, trial_id: str) -> License:
    """Keep what was trialled: it becomes the license's committed plan or add-on."""
    licensing.require_changeable(license)
    overlay = _find(license, trial_id)
    if overlay.target_kind == "plan":
        kept = replace(license, plan_key=overlay.target_key, plan_version=overlay.target_version)
    else:
        kept = replace(license, addons={**license.addons, overlay.target_key: overlay.target_version})
    return _without(kept, overlay)
