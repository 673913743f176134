"""Rule matching and sandboxed rendering."""

from __future__ import annotations

from tangible_notifications.domain.model import Channel, NotificationRule, SourceEvent, Template
from tangible_notifications.domain.rendering import render

EVENT = SourceEvent(
    "e1",
    "tangible.entitlements.v1.threshold_crossed",
    "t1",
    "a1",
    {"feature_key": "reports", "threshold_percent": 80},
)


def rule(*types: str) -> NotificationRule:
    return NotificationRule("r", "n", types, (Channel.INBOX,), Template("t", "b"))


def test_rules_match_exact_types_and_prefix_wildcards() -> None:
    assert rule("tangible.entitlements.v1.threshold_crossed").matches(EVENT.type)
    assert rule("tangible.entitlements.v1.*").matches(EVENT.type)
    assert not rule("tangible.rewards.v1.*").matches(EVENT.type)


def test_templates_render_event_data() -> None:
    title, body = render(
        Template("{{ data.feature_key }} at {{ data.threshold_percent }} %", "for {{ account_id }}"), EVENT
    )
    assert (title, body) == ("reports at 80 %", "for a1")


def test_templates_cannot_reach_python_internals_and_fall_back_to_plain_text() -> None:
    title, _ = render(Template("{{ ''.__class__.__mro__[1].__subclasses__() }}", ""), EVENT)
    assert title == "Update about your account: threshold crossed"
    title, _ = render(Template("{{ data.missing_field }}", ""), EVENT)
    assert title == "Update about your account: threshold crossed"
