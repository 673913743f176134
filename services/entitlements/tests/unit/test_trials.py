"""Trials as overlays: in force at once, rolled back exactly, kept on conversion."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tangible_entitlements.domain import licensing, trials
from tangible_entitlements.domain.entitlement import Grant, evaluate_license
from tangible_entitlements.domain.errors import (
    InvalidTrial,
    LicenseStateConflict,
    TrialConflict,
    TrialNotActive,
    TrialNotEligible,
)
from tangible_entitlements.domain.model import (
    CatalogItem,
    CatalogStatus,
    Feature,
    FeatureKind,
    FeatureValue,
    License,
    LicenseStatus,
    Meter,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
ENDS = NOW + timedelta(days=14)
REPORTS = Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated"))
SSO = Feature("sso", "SSO", FeatureKind.BOOLEAN)
STARTER = CatalogItem(
    "starter", 1, "plan", "Starter", CatalogStatus.PUBLISHED, {"reports": FeatureValue(limit=10)}
)
PRO = CatalogItem(
    "pro",
    1,
    "plan",
    "Pro",
    CatalogStatus.PUBLISHED,
    {"reports": FeatureValue(limit=100), "sso": FeatureValue()},
)
PRO_2 = replace(PRO, version=2, features={"reports": FeatureValue(limit=500)})
SSO_PACK = CatalogItem("sso-pack", 1, "addon", "SSO pack", CatalogStatus.PUBLISHED, {"sso": FeatureValue()})
ITEMS = {("t", i.key, i.version): i for i in (STARTER, PRO, PRO_2, SSO_PACK)}


def license(**changes: object) -> License:
    base = License("l1", "t", "a", "starter", 1, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 5)
    return replace(base, **changes)  # type: ignore[arg-type]


def plan_trial(base: License | None = None) -> License:
    base = base or license()
    features = trials.affected_features(base, STARTER, PRO)
    return trials.start(base, trial_id="tr1", target=PRO, features=features, active=[], ends_at=ENDS)


def check(lic: License, feature: Feature, at: datetime = NOW, grants: list[Grant] | None = None) -> object:
    return evaluate_license(feature, license=lic, items=ITEMS, grants=grants or [], usage=0, at=at)


def test_a_plan_trial_is_in_force_at_once_and_named_as_a_trial_source() -> None:
    trialling = plan_trial()
    assert (trialling.plan_key, trialling.plan_version) == ("starter", 1)  # the committed plan stays
    reports = check(trialling, REPORTS)
    assert reports.limit == 100  # type: ignore[attr-defined]
    assert [(s.kind, s.key, s.expires_at) for s in reports.sources] == [("trial", "pro", ENDS)]  # type: ignore[attr-defined]
    assert check(trialling, SSO).has_access  # type: ignore[attr-defined]


def test_at_its_end_the_check_already_sees_the_pre_trial_values() -> None:
    trialling = plan_trial()
    after = check(trialling, REPORTS, at=ENDS)
    assert after == check(license(), REPORTS, at=ENDS)
    assert not check(trialling, SSO, at=ENDS).has_access  # type: ignore[attr-defined]


def test_rollback_undoes_what_the_trial_overrode_and_keeps_the_rest() -> None:
    trialling = plan_trial()
    # during the trial: the overridden slot (the plan) is migrated, seats and an add-on change
    changed = replace(trialling, plan_key="pro", plan_version=2, seats=8, addons={"sso-pack": 1})
    rolled = trials.roll_back(changed, "tr1")
    assert (rolled.plan_key, rolled.plan_version) == ("starter", 1)
    assert (rolled.seats, rolled.addons, rolled.trials) == (8, {"sso-pack": 1}, ())


def test_a_grant_that_arrives_during_the_trial_outlives_it() -> None:
    grant = Grant("g1", "sso", "early_access", None, "reward:r1", NOW + timedelta(days=2), None)
    rolled = trials.roll_back(plan_trial(), "tr1")
    sso = check(rolled, SSO, at=ENDS, grants=[grant])
    assert sso.has_access and [s.kind for s in sso.sources] == ["grant"]  # type: ignore[attr-defined]
    assert check(rolled, REPORTS, at=ENDS) == check(license(), REPORTS, at=ENDS)


def test_an_addon_trial_adds_the_addon_and_rolls_back_to_none() -> None:
    base = license()
    trialling = trials.start(
        base, trial_id="tr2", target=SSO_PACK, features=frozenset({"sso"}), active=[], ends_at=ENDS
    )
    sso = check(trialling, SSO)
    assert [(s.kind, s.key) for s in sso.sources] == [("trial", "sso-pack")]  # type: ignore[attr-defined]
    assert trials.roll_back(trialling, "tr2") == base
    kept = trials.convert(trialling, "tr2")
    assert kept.addons == {"sso-pack": 1} and kept.trials == ()
    assert [s.kind for s in check(kept, SSO).sources] == ["addon"]  # type: ignore[attr-defined]


def test_convert_makes_the_trialled_plan_the_committed_one() -> None:
    kept = trials.convert(plan_trial(), "tr1")
    assert (kept.plan_key, kept.plan_version, kept.trials) == ("pro", 1, ())
    with pytest.raises(TrialNotActive):
        trials.convert(kept, "tr1")


def test_expiry_while_suspended_also_rolls_back_the_state_reinstating_restores() -> None:
    suspended = licensing.suspend(plan_trial(), now=NOW, users=["u1"])
    rolled = trials.roll_back(suspended, "tr1")
    assert rolled.status is LicenseStatus.SUSPENDED and rolled.trials == ()
    assert rolled.prior_state is not None
    assert rolled.prior_state["trials"] == [] and rolled.prior_state["plan_key"] == "starter"
    back, users = licensing.bring_back(
        rolled, expected=LicenseStatus.SUSPENDED, now=NOW, window=timedelta(days=30)
    )
    assert back == license() and users == ["u1"]
    with pytest.raises(LicenseStateConflict):
        trials.convert(suspended, "tr1")


def test_one_running_trial_per_feature_set_and_per_plan_slot() -> None:
    trialling = plan_trial()
    with pytest.raises(TrialConflict):
        trials.start(
            trialling, trial_id="x", target=PRO_2, features=frozenset({"reports"}), active=[], ends_at=ENDS
        )
    with pytest.raises(TrialConflict):  # sso is already being trialled by the plan
        trials.start(
            trialling,
            trial_id="x",
            target=SSO_PACK,
            features=frozenset({"sso"}),
            active=[frozenset({"reports", "sso"})],
            ends_at=ENDS,
        )
    with pytest.raises(InvalidTrial):
        trials.start(license(), trial_id="x", target=STARTER, features=frozenset(), active=[], ends_at=ENDS)
    with pytest.raises(InvalidTrial):
        trials.start(
            license(status=LicenseStatus.EXPIRED),
            trial_id="x",
            target=PRO,
            features=frozenset({"sso"}),
            active=[],
            ends_at=ENDS,
        )


def test_the_feature_set_of_a_plan_trial_is_where_it_differs() -> None:
    assert trials.affected_features(license(), STARTER, PRO) == {"reports", "sso"}
    assert trials.affected_features(license(), STARTER, SSO_PACK) == {"sso"}


def test_eligibility_rules() -> None:
    trials.check_eligible("once_per_target", [("addon", "sso-pack")], PRO)
    with pytest.raises(TrialNotEligible):
        trials.check_eligible("once_per_target", [("plan", "pro")], PRO)
    with pytest.raises(TrialNotEligible):
        trials.check_eligible("once_per_account", [("addon", "sso-pack")], PRO)
    trials.check_eligible("unlimited", [("plan", "pro")] * 3, PRO)


def test_snapshots_keep_the_overlay_for_as_of_reads() -> None:
    trialling = plan_trial()
    again = licensing.from_snapshot(
        {k: v for k, v in licensing.snapshot(trialling).items() if k != "assigned_users"}
    )
    assert again == trialling
    assert trials.item_keys(trialling) == {("starter", 1), ("pro", 1)}
