"""The chaos run's invariant checker catches what it claims to: planted double counts and
losses, in every place the run compares against its tally."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from chaos.faults import Injected, sender_outages
from chaos.invariants import DLQ_USAGE, Expected, Observed, Result, check
from chaos.tally import ChaosTally, build_expected, wire_id
from chaos.tenant import RULE_CHANNELS
from tangible_client.reports import DeliveryReport, DeliveryStatus

TENANT = "t1"
SOURCE = "app://simulator"


def _send(tally: ChaosTally, kind: str, event_id: str, account: str, usage_type: str, status: str) -> None:
    event = {
        "id": event_id,
        "source": SOURCE,
        "type": usage_type,
        "subject": account,
        "time": "2026-11-20T10:00:00+00:00",
        "data": {"quantity": 1 if kind != "conflict" else 2, "user_id": "u1"},
    }
    tally.record(kind, event, DeliveryReport(event_id, DeliveryStatus(status)))


@pytest.fixture
def scenario() -> tuple[Expected, Observed]:
    """Two starter accounts: a-1 reaches 15 reports (50 % of 30 crossed), a-2 one report;
    one duplicate, one conflict, one unknown-account event (parked)."""
    tally = ChaosTally(TENANT)
    for n in range(15):
        _send(tally, "original", f"r{n}", "a-1", "report.generated", "accepted")
    _send(tally, "original", "x1", "a-2", "report.generated", "accepted")
    _send(tally, "duplicate", "x1", "a-2", "report.generated", "duplicate")
    _send(tally, "conflict", "r1", "a-1", "report.generated", "conflict")
    ghost = wire_id(TENANT, SOURCE, "ghost-1")
    expected = build_expected(
        tally, plan_of={"a-1": "starter", "a-2": "starter"}, unknown={ghost: ("ghost", 1.0)}
    )
    usage = {"a-1": {"report.generated": 15.0}, "a-2": {"report.generated": 1.0}}
    observed = Observed(
        usage_api=copy.deepcopy(usage),
        usage_db=copy.deepcopy(usage),
        consumed_ids={
            "entitlements-usage": expected.event_ids | {ghost},  # parked: its claim is kept
            "rewards-usage": expected.event_ids | {ghost},
        },
        rewards=[],
        balances={},
        ledger_breaches=[],
        threshold_marks={"a-1": 1},
        notifications=[("a-1", "thresholds", "webhook", "e1"), ("a-1", "thresholds", "inbox", "e1")],
        notification_keys_repeated=0,
        webhook_deliveries={"d1": "succeeded"},
        acknowledged={"d1": 1},
        bad_signatures=0,
        dead_letters={DLQ_USAGE: [], "tangible.dlq.rewards-usage": []},  # the ghost is parked
        lag={"entitlements-usage": 0},
        outbox={"entitlements": 0},
    )
    return expected, observed


def _failed(expected: Expected, observed: Observed) -> dict[str, Result]:
    return {r.name: r for r in check(expected, observed, rule_channels=RULE_CHANNELS) if not r.passed}


def test_a_consistent_run_passes_every_invariant(scenario: tuple[Expected, Observed]) -> None:
    expected, observed = scenario
    assert expected.usage == {"a-1": {"report.generated": 15.0}, "a-2": {"report.generated": 1.0}}
    assert expected.crossings == {"a-1": 1}
    assert _failed(expected, observed) == {}


def test_a_planted_double_count_is_caught(scenario: tuple[Expected, Observed]) -> None:
    expected, observed = scenario
    observed.usage_api["a-2"]["report.generated"] += 1
    observed.usage_db["a-2"]["report.generated"] += 1
    failed = _failed(expected, observed)
    assert set(failed) == {"usage_counted_exactly_once_api", "usage_counted_exactly_once_db"}
    assert failed["usage_counted_exactly_once_api"].problems == [
        "double count: a-2 report.generated counted 2, tally 1"
    ]


def test_a_planted_loss_is_caught(scenario: tuple[Expected, Observed]) -> None:
    expected, observed = scenario
    lost = next(iter(expected.event_ids))
    observed.consumed_ids["entitlements-usage"].discard(lost)
    observed.usage_db["a-1"]["report.generated"] -= 1
    failed = _failed(expected, observed)
    assert set(failed) == {"usage_counted_exactly_once_db", "no_rejected_or_conflicting_event_counted"}
    assert failed["usage_counted_exactly_once_db"].problems == [
        "loss: a-1 report.generated counted 14, tally 15"
    ]
    assert (
        "1 accepted events never handled (lost)" in failed["no_rejected_or_conflicting_event_counted"].detail
    )


def test_a_conflicting_payload_counted_instead_of_the_original_is_caught(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    observed.usage_api["a-1"]["report.generated"] += 1  # the conflict carried quantity 2
    assert set(_failed(expected, observed)) == {"usage_counted_exactly_once_api"}


def test_a_milestone_rewarded_twice_or_never_and_a_ledger_breach_are_caught(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    expected.rewards = {("a-1", "reports-100"): Decimal(10), ("a-2", "reports-100"): Decimal(10)}
    observed.rewards = [("a-1", "reports-100"), ("a-1", "reports-100")]
    observed.balances = {"a-1": Decimal(20)}
    observed.ledger_breaches = ["transaction g1 sums to 10"]
    failed = _failed(expected, observed)
    assert "rewarded twice: a-1 reports-100 ×2" in failed["milestones_rewarded_exactly_once"].problems
    assert (
        "milestone lost: a-2 reports-100 reached, never rewarded"
        in failed["milestones_rewarded_exactly_once"].problems
    )
    assert failed["ledger_balanced"].problems == [
        "transaction g1 sums to 10",
        "balance a-1: 20, milestones imply 10",
        "balance a-2: 0, milestones imply 10",
    ]
    assert set(failed) >= {"one_notification_per_event_rule_recipient_channel"}  # reward notices missing


def test_duplicated_notifications_and_webhooks_acknowledged_twice_are_caught(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    observed.notifications.append(("a-1", "thresholds", "webhook", "e2"))
    observed.acknowledged["d1"] = 2
    observed.webhook_deliveries["d2"] = "failed"
    failed = _failed(expected, observed)
    assert failed["one_notification_per_event_rule_recipient_channel"].problems == [
        "duplicated: a-1 rule thresholds webhook: 2, expected 1"
    ]
    assert failed["webhooks_delivered_until_acknowledged_once"].problems == [
        "delivery d2 ended failed",
        "webhook-id d1 acknowledged 2 times",
    ]


def test_a_webhook_sent_again_is_allowed_only_when_a_fault_took_the_senders_record(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    observed.webhook_deliveries["d2"] = "succeeded"
    observed.acknowledged.update({"d1": 2, "d2": 2})
    observed.acknowledged_at = {"d1": [10.0, 31.0], "d2": [40.0, 58.0]}
    observed.recorded_successes = {"d1": 1, "d2": 1}
    observed.sender_outages = [(-5.0, 12.0, "sender SIGKILLed at 12.0s")]
    result = {r.name: r for r in check(expected, observed, rule_channels=RULE_CHANNELS)}[
        "webhooks_delivered_until_acknowledged_once"
    ]
    assert not result.passed
    assert result.problems == ["webhook-id d2 acknowledged 2 times (at 40.0s, 58.0s)"]  # no fault near 40 s
    assert result.explained == [
        "webhook-id d1 acknowledged at 10.0s, answer lost (sender SIGKILLed at 12.0s), sent again"
    ]
    observed.sender_outages.append((30.0, 45.0, "PostgreSQL postgres_restart at 45.0s"))
    observed.recorded_successes["d2"] = 2  # the service itself recorded the success twice
    problems = _failed(expected, observed)["webhooks_delivered_until_acknowledged_once"].problems
    assert problems == ["delivery d2: success recorded 2 times"]
    observed.recorded_successes["d2"] = 1
    assert _failed(expected, observed) == {}


def test_dead_letters_that_do_not_belong_or_are_missing_are_caught(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    ghost = next(iter(expected.parked))
    observed.dead_letters = {
        DLQ_USAGE: [(ghost, "unknown_account")],  # parked usage must not be dead-lettered
        "tangible.dlq.rewards-usage": [("e9", "handler_failed")],
    }
    problems = _failed(expected, observed)["dead_letters_only_what_belongs_there"].problems
    assert problems == [
        "tangible.dlq.rewards-usage: unexpected e9 (handler_failed)",
        f"{DLQ_USAGE}: unexpected {ghost} (unknown_account)",
    ]


def test_a_role_that_does_not_exit_cleanly_on_sigterm_fails_the_run(
    scenario: tuple[Expected, Observed],
) -> None:
    expected, observed = scenario
    observed.sigterm_exits = [("rewards-relay", 0), ("entitlements-consumer", None), ("usage-ingest-api", 1)]
    assert _failed(expected, observed)["sigterm_stops_cleanly"].problems == [
        "entitlements-consumer: had to be SIGKILLed after SIGTERM",
        "usage-ingest-api: exit code 1 after SIGTERM",
    ]


def test_unsettled_state_and_failed_sends_fail_the_run(scenario: tuple[Expected, Observed]) -> None:
    expected, observed = scenario
    expected.sends_failed = 3
    observed.lag["rewards-usage"] = 12
    assert set(_failed(expected, observed)) == {"every_send_judged", "converged"}


def test_an_answer_lost_to_a_killed_sender_is_allowed_until_the_sender_is_started_again() -> None:
    killed = Injected("kill", "notifications-delivery", 751.6, 754.2, relaunched=752.7)
    restarted_db = Injected("postgres_restart", "postgres", 100.0, 104.0)
    windows = sender_outages([killed, restarted_db, Injected("kill", "rewards-api", 10.0, 12.0)], lease=40.0)
    assert windows == [
        (711.6, 752.7, "sender SIGKILLed at 751.6s"),  # requests written before the kill, answered after
        (60.0, 104.0, "PostgreSQL postgres_restart at 100.0s"),
    ]
