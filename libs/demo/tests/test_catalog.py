"""The demo's catalog and licenses fit the simulated population."""

from __future__ import annotations

from datetime import date, timedelta

from tangible_demo.catalog import ADDONS, FEATURES, PLANS, license_specs
from tangible_demo.engagement import MILESTONES
from tangible_simulator.population import PLANS as PROFILES
from tangible_simulator.population import build_population

TODAY = date(2026, 11, 26)
HISTORY = TODAY - timedelta(days=56)


def test_every_simulated_account_gets_one_license_on_its_own_plan() -> None:
    accounts = build_population(60, seed=3)
    specs = license_specs(accounts, today=TODAY, history_start=HISTORY, seed=3)
    assert [s.account_id for s in specs] == [a.id for a in accounts]
    assert all(s.plan_key == a.plan.key for s, a in zip(specs, accounts, strict=True))
    assert {p["key"] for p in PLANS} == {p.key for p in PROFILES}
    # every seat holder the simulator uses has a seat; some pools are exactly full
    assert all(s.seats >= len(s.users) == len(a.users) for s, a in zip(specs, accounts, strict=True))
    assert any(s.seats == len(s.users) for s in specs) and any(s.seats > len(s.users) for s in specs)


def test_terms_mix_new_customers_anniversaries_and_renewals_within_90_days() -> None:
    specs = license_specs(build_population(60, seed=3), today=TODAY, history_start=HISTORY, seed=3)
    new = [s for s in specs if s.term_start == HISTORY - timedelta(days=1)]  # before the first event
    established = [s for s in specs if s not in new]
    soon = [s for s in established if (s.term_end - TODAY).days <= 90]
    assert len(new) >= 6 and len(soon) >= 6 and len(established) - len(soon) >= 6
    assert all((TODAY - s.term_start).days > 365 for s in established)  # past their first anniversary
    assert all(s.term_end > TODAY for s in specs)


def test_catalog_names_only_known_features_and_every_feature_has_an_outcome() -> None:
    keys = {f["key"] for f in FEATURES}
    for item in [*PLANS, *ADDONS]:
        assert set(item["features"]) <= keys
    assert all(f["outcome"] for f in FEATURES)
    metered = [f for f in FEATURES if f["kind"] == "metered"]
    assert all(f["impact_metric"] and f["impact_per_unit"] > 0 for f in metered)
    # the simulator's event types are all metered, so entitlements counts every event it sends
    assert {f["meter"]["event_type"] for f in metered} == {
        "report.generated",
        "export.created",
        "dashboard.shared",
    }


def test_milestones_cover_every_rule_kind_and_every_reward_kind() -> None:
    assert {m["kind"] for m in MILESTONES} == {
        "usage_threshold",
        "streak",
        "adoption",
        "anniversary",
        "time_to_value",
    }
    assert {m["reward"]["kind"] for m in MILESTONES} == {"credits", "support_level", "early_access", "custom"}
    assert {m["params"]["mode"] for m in MILESTONES if m["kind"] == "streak"} == {
        "consecutive_days",
        "days_in_weeks",
    }
