"""Trial handlers: start, cancel, convert (API) and expire, announce the end (scheduler).

Every step locks the license row and writes the license, its history and the trial event
in one transaction, like any other license change.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Literal

from tangible_entitlements.domain import commands, trials
from tangible_entitlements.domain.errors import (
    InvalidTrial,
    LicenseNotFound,
    TrialNotActive,
    TrialNotFound,
)
from tangible_entitlements.domain.model import License, Trial
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.handlers.licenses import published, save_change
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock

DAY = timedelta(days=1)


async def _locked(uow: UnitOfWork, tenant_id: str, license_id: str) -> License:
    license = await uow.licenses.get(tenant_id, license_id, for_update=True)
    if license is None:
        raise LicenseNotFound(f"license '{license_id}' does not exist")
    return license


async def start_trial(command: commands.StartTrial, *, uow: UnitOfWork, clock: Clock) -> Trial:
    """A trial of a plan or add-on, in force at once, for `days` days."""
    async with uow:
        license = await _locked(uow, command.tenant_id, command.license_id)
        policy = await uow.policies.get(command.tenant_id)
        if not 1 <= command.days <= policy.trial_max_days:
            raise InvalidTrial(f"a trial lasts 1 to {policy.trial_max_days} days", days=command.days)
        target = await published(
            uow, command.tenant_id, command.target_key, command.target_kind, command.target_version
        )
        plan = await uow.catalog.item(license.tenant_id, license.plan_key, license.plan_version)
        features = trials.affected_features(license, plan, target)
        trials.check_eligible(
            policy.trial_eligibility,
            await uow.trials.past_targets(license.tenant_id, license.account_id),
            target,
        )
        now = clock.now()
        trial_id, ends_at = str(uuid.uuid4()), now + command.days * DAY
        trial = Trial(
            id=trial_id,
            tenant_id=license.tenant_id,
            account_id=license.account_id,
            license_id=license.id,
            target_kind=target.kind,
            target_key=target.key,
            target_version=target.version,
            features=tuple(sorted(features)),
            started_at=now,
            ends_at=ends_at,
            status="active",
            actor=command.actor,
            reason=command.reason,
        )
        after = trials.start(
            license,
            trial_id=trial_id,
            target=target,
            features=features,
            active=await uow.trials.running_features(license.tenant_id, license.id),
            ends_at=ends_at,
        )
        await uow.trials.add(trial)
        users = await uow.seats.users(license.tenant_id, license.id)
        event = translate.trial_started(trial)
        await save_change(
            uow, license, after, users, None, "trial_started", command.actor, command.reason, event, now
        )
        await uow.commit()
    return trial


async def end_trial(command: commands.EndTrial, *, uow: UnitOfWork, clock: Clock) -> License:
    """Cancel (roll back exactly) or convert (keep, and record it) a running trial."""
    async with uow:
        license = await _locked(uow, command.tenant_id, command.license_id)
        trial = await uow.trials.get(command.tenant_id, command.trial_id, for_update=True)
        if trial is None or trial.license_id != license.id:
            raise TrialNotFound(f"trial '{command.trial_id}' does not exist on this license")
        if trial.status != "active":
            raise TrialNotActive(f"trial '{command.trial_id}' is {trial.status}", trial_status=trial.status)
        outcome: Literal["cancelled", "converted"] = (
            "converted" if command.outcome == "converted" else "cancelled"
        )
        if outcome == "converted":
            after = trials.convert(license, command.trial_id)
        else:
            after = trials.roll_back(license, command.trial_id)
        now = clock.now()
        users = await uow.seats.users(license.tenant_id, license.id)
        event = translate.trial_finished(trial, outcome, command.actor, command.reason)
        action = "trial_converted" if outcome == "converted" else "trial_ended"
        await save_change(uow, license, after, users, None, action, command.actor, command.reason, event, now)
        await uow.trials.finish(command.tenant_id, command.trial_id, outcome, now)
        await uow.commit()
    return after


async def expire_trials(*, uow: UnitOfWork, clock: Clock, batch_size: int = 500) -> int:
    """Roll back every trial past its end, exactly once (rows claimed with SKIP LOCKED)."""
    async with uow:
        now = clock.now()
        due = await uow.trials.claim_due(now, batch_size)
        for trial in due:
            license = await uow.licenses.get(trial.tenant_id, trial.license_id)
            assert license is not None  # locked by the claim
            try:
                after = trials.roll_back(license, trial.id)
            except TrialNotActive:  # nothing on the license to undo: only close the row
                await uow.trials.finish(trial.tenant_id, trial.id, "expired", now)
                continue
            users = await uow.seats.users(license.tenant_id, license.id)
            event = translate.trial_finished(trial, "expired", "system", "expired")
            await save_change(
                uow, license, after, users, None, "trial_ended", "system", "expired", event, now
            )
            await uow.trials.finish(trial.tenant_id, trial.id, "expired", now)
        await uow.commit()
    return len(due)


async def announce_trials_ending(
    *, uow: UnitOfWork, clock: Clock, default_days: int, batch_size: int = 500
) -> int:
    """trial_ending_soon_announced once per trial, at its tenant's lead time before the end."""
    async with uow:
        now = clock.now()
        ending = await uow.trials.claim_ending_soon(now, default_days, batch_size)
        for trial in ending:
            days_left = max(1, math.ceil((trial.ends_at - now) / DAY))
            uow.outbox.add(translate.trial_ending_soon(trial, days_left))
        await uow.commit()
    return len(ending)
