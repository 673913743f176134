"""Rule matching, filters, sandboxed rendering, planning one notification per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tangible_notifications.domain.defaults import RENEWAL_DUE, default_template
from tangible_notifications.domain.errors import InvalidTemplate
from tangible_notifications.domain.model import (
    Channel,
    Endpoint,
    NotificationRule,
    Preference,
    Priority,
    RuleFilters,
    SourceEvent,
    Status,
    Template,
)
from tangible_notifications.domain.planning import TenantConfig, plan
from tangible_notifications.domain.rendering import days_left, render, render_strict, uses_impact, validate

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)
EVENT = SourceEvent(
    "e1",
    "tangible.entitlements.v1.threshold_crossed",
    "t1",
    "a1",
    {"feature_key": "reports", "threshold_percent": 80, "usage": 8, "limit": 10},
)


def rule(*types: str, channels: tuple[Channel, ...] = (Channel.INBOX,), **kwargs: object) -> NotificationRule:
    return NotificationRule("r", "n", types, channels, Template("t", "b"), **kwargs)  # type: ignore[arg-type]


def test_rules_match_exact_types_and_prefix_wildcards() -> None:
    assert rule("tangible.entitlements.v1.threshold_crossed").matches(EVENT.type)
    assert rule("tangible.entitlements.v1.*").matches(EVENT.type)
    assert not rule("tangible.rewards.v1.*").matches(EVENT.type)


def test_filters_narrow_by_feature_and_threshold_only_where_the_event_has_them() -> None:
    only_exports = rule("tangible.entitlements.v1.*", filters=RuleFilters(feature_key="exports"))
    assert not only_exports.matches(EVENT.type, EVENT.data)
    assert only_exports.matches("tangible.entitlements.v1.seat_assigned", {"user_id": "u"})
    high = rule("tangible.entitlements.v1.*", filters=RuleFilters(min_threshold_percent=100))
    assert not high.matches(EVENT.type, EVENT.data)
    assert high.matches(EVENT.type, {**EVENT.data, "threshold_percent": 100})


def test_templates_render_event_data_and_html_is_escaped() -> None:
    title, body, html = render(
        Template(
            "{{ data.feature_key }} at {{ data.threshold_percent }} %",
            "for {{ account_id }}",
            "<b>{{ data.feature_key }}</b>",
        ),
        SourceEvent("e", "x", "t", "a1", {"feature_key": "<script>", "threshold_percent": 80}),
        NOW,
    )
    assert (title, body, html) == ("<script> at 80 %", "for a1", "<b>&lt;script&gt;</b>")
    _, _, escaped = render_strict(
        Template("x", "", "{{ data.feature_key }}"), {"data": {"feature_key": "<i>"}}
    )
    assert escaped == "&lt;i&gt;"


def test_templates_cannot_reach_python_internals_and_fall_back_to_plain_text() -> None:
    title, _, _ = render(Template("{{ ''.__class__.__mro__[1].__subclasses__() }}", ""), EVENT, NOW)
    assert title == "Update about your account: threshold crossed"
    title, _, _ = render(Template("{{ data.missing_field }}", ""), EVENT, NOW)
    assert title == "Update about your account: threshold crossed"


def test_templates_that_do_not_parse_are_refused_and_impact_use_is_detected() -> None:
    with pytest.raises(InvalidTemplate):
        validate(Template("{% if %}", ""))
    assert uses_impact(Template("Renewal", "{{ impact.note }}"))
    assert not uses_impact(Template("{{ data.x }}", ""))


def config(*endpoints: Endpoint, rules: tuple[NotificationRule, ...] = ()) -> TenantConfig:
    return TenantConfig(rules=rules, endpoints=endpoints)


def test_plan_makes_one_notification_per_rule_recipient_and_channel_with_stable_ids() -> None:
    hook = Endpoint("h1", "t1", Channel.WEBHOOK, "crm", url="https://crm.example/hook")
    mail = Endpoint(
        "m1", "t1", Channel.EMAIL, "ops", recipients=("a@x.example", "A@x.example", "b@x.example")
    )
    csm = Endpoint("c1", "t1", Channel.WEBHOOK, "csm", purpose="csm", url="https://csm.example/hook")
    r = rule(EVENT.type, channels=(Channel.INBOX, Channel.WEBHOOK, Channel.EMAIL))
    planned = plan(EVENT, config(hook, mail, csm, rules=(r,)), [], NOW)
    assert sorted(n.recipient.key for n in planned) == [
        "account:a1",
        "email:a@x.example",
        "email:b@x.example",
        "endpoint:h1",
    ]
    assert [n.id for n in planned] == [
        n.id for n in plan(EVENT, config(hook, mail, csm, rules=(r,)), [], NOW)
    ]
    webhook = next(n for n in planned if n.channel is Channel.WEBHOOK)
    assert webhook.context is not None and webhook.context["data"]["threshold_percent"] == 80


def test_customer_success_signals_go_to_the_csm_channel_without_a_rule() -> None:
    csm = Endpoint("c1", "t1", Channel.EMAIL, "csm", purpose="csm", recipients=("csm@vendor.example",))
    data = {"decline_percent": 35.2, "renewal_date": "2027-01-01"}
    signal = SourceEvent("e2", "tangible.entitlements.v1.renewal_risk_detected", "t1", "a1", data)
    [n] = plan(signal, config(csm), [], NOW)
    assert (n.rule_id, n.channel, n.recipient.target, n.priority) == (
        "csm",
        Channel.EMAIL,
        "csm@vendor.example",
        Priority.HIGH,
    )
    assert n.title == "Renewal at risk: account a1"
    assert n.body == "Key usage fell 35 % before the renewal on 2027-01-01."
    assert plan(EVENT, config(csm), [], NOW) == []


def test_preferences_opt_out_hold_for_digest_and_critical_bypasses() -> None:
    mail = Endpoint("m1", "t1", Channel.EMAIL, "customers", to_account_contacts=True)
    prefs = [
        Preference(
            "a1", email="lead@a1.example", channels={"email": {"usage": "weekly"}, "inbox": {"usage": "off"}}
        ),
        Preference("a1", user_id="u1", email="u1@a1.example", channels={"email": {"usage": "off"}}),
    ]
    r = rule(EVENT.type, channels=(Channel.EMAIL, Channel.INBOX), priority=Priority.LOW)
    by_key = {n.recipient.key: n for n in plan(EVENT, config(mail, rules=(r,)), prefs, NOW)}
    assert by_key["email:lead@a1.example"].status is Status.HELD
    assert by_key["email:lead@a1.example"].digest_key == "weekly:2026-11-30"
    assert by_key["email:u1@a1.example"].status is Status.SUPPRESSED
    assert by_key["account:a1"].status is Status.SUPPRESSED
    critical = rule(EVENT.type, channels=(Channel.EMAIL,), priority=Priority.CRITICAL)
    assert {n.status for n in plan(EVENT, config(mail, rules=(critical,)), prefs, NOW)} == {Status.PENDING}


def test_personalised_templates_are_composed_later() -> None:
    renewal = SourceEvent(
        "e3", "tangible.entitlements.v1.renewal_due_announced", "t1", "a1", {"lead_days": 30}
    )
    [n] = plan(
        renewal, config(rules=(NotificationRule("r", "n", (renewal.type,), (Channel.INBOX,)),)), [], NOW
    )
    assert n.status is Status.COMPOSING and n.title == "" and n.template is not None


def test_days_left_counts_from_the_events_date_to_the_render_clock() -> None:
    today = NOW.date()
    assert days_left({"renewal_date": "2026-12-16", "lead_days": 30}, today) == 20
    assert days_left({"ends_at": "2026-11-27T00:00:00Z", "days_left": 7}, today) == 1
    assert days_left({"expires_at": "2026-11-20T00:00:00+00:00"}, today) == -6
    assert days_left({"feature_key": "reports"}, today) is None
    assert days_left({"renewal_date": "not a date"}, today) is None


@pytest.mark.parametrize(
    ("left", "title"),
    [
        (20, "Your renewal is 20 days away"),
        (1, "Your renewal is tomorrow"),
        (0, "Your renewal is today"),
        (-2, "Your renewal date has passed"),
    ],
)
def test_the_default_renewal_reminder_states_the_true_remaining_time(left: int, title: str) -> None:
    """Announced with a 30-day lead time but rendered `left` days before the renewal (late
    catch-up, quiet hours, composing): the title says what is true when it is written."""
    renewal = (NOW + timedelta(days=left)).date()
    event = SourceEvent(
        "e", RENEWAL_DUE, "t1", "a1", {"renewal_date": renewal.isoformat(), "lead_days": 30, "late": True}
    )
    rendered, _, _ = render(default_template(RENEWAL_DUE), event, NOW, {"note": ""})
    assert rendered == title


def test_the_default_trial_reminder_counts_from_its_end_not_the_announced_days_left() -> None:
    trial = "tangible.entitlements.v1.trial_ending_soon_announced"
    ends_at = datetime.combine(NOW.date() + timedelta(days=3), datetime.min.time(), UTC).isoformat()
    event = SourceEvent("e", trial, "t1", "a1", {"target_key": "growth", "ends_at": ends_at, "days_left": 7})
    assert render(default_template(trial), event, NOW)[0] == "Your trial of growth ends in 3 days"
