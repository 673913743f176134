"""The consumer's triage: an event no enabled rule of its tenant can match, that is no
customer-success signal and carries no license term, is skipped before it is decoded; the
rules are read again before every batch."""

from __future__ import annotations

from services.notifications.tests.unit.fakes import FakeUnitOfWork, Store
from services.notifications.tests.unit.scenario import TENANT, THRESHOLD, add_rule
from tangible_notifications.domain.defaults import RENEWAL_AT_RISK
from tangible_notifications.domain.model import Channel, NotificationRule
from tangible_notifications.service_layer.triage import RuleTriage

AGGREGATED = "tangible.entitlements.v1.usage_aggregated"
LICENSED = "tangible.entitlements.v1.license_created"


def triage_of(store: Store) -> RuleTriage:
    return RuleTriage(lambda: FakeUnitOfWork(store))


async def test_without_rules_only_signals_and_license_terms_are_wanted(store: Store) -> None:
    triage = triage_of(store)
    await triage.refresh()
    assert not triage.wants(THRESHOLD, TENANT)
    assert not triage.wants(AGGREGATED, TENANT)
    assert triage.wants(RENEWAL_AT_RISK, TENANT)
    assert triage.wants(LICENSED, TENANT)


async def test_a_rule_is_wanted_for_its_tenant_from_the_next_refresh(store: Store) -> None:
    triage = triage_of(store)
    await triage.refresh()
    assert not triage.wants(THRESHOLD, TENANT)
    await add_rule(store, Channel.INBOX)
    assert not triage.wants(THRESHOLD, TENANT)  # decided per refresh, as a batch sees the rules
    await triage.refresh()
    assert triage.wants(THRESHOLD, TENANT)
    assert not triage.wants(THRESHOLD, "another-tenant")
    assert not triage.wants(AGGREGATED, TENANT)


async def test_a_wildcard_rule_wants_every_type_under_its_prefix_and_a_disabled_one_nothing(
    store: Store,
) -> None:
    every = NotificationRule("all", "All", ("tangible.entitlements.v1.*",), (Channel.INBOX,))
    store.rules[(TENANT, every.id)] = every
    off = NotificationRule("off", "Off", (AGGREGATED,), (Channel.INBOX,), enabled=False)
    store.rules[("t2", off.id)] = off
    triage = triage_of(store)
    await triage.refresh()
    assert triage.wants(AGGREGATED, TENANT)
    assert not triage.wants("tangible.rewards.v1.granted", TENANT)
    assert not triage.wants(AGGREGATED, "t2")
