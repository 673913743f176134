"""The summary text says what the services reported, and what this build cannot report yet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from tangible_demo.engagement import CSM_HOOK, RENEWAL_DUE, UPGRADE_SUGGESTED
from tangible_demo.receiver import Received, WebhookReceiver
from tangible_demo.render import RunFacts, render
from tangible_demo.summary import AccountFacts, Summary

RUN = RunFacts(date(2026, 10, 1), date(2026, 11, 26), 60.0, 8.0, True)


def _check(feature: str, usage: float, limit: float, *, hard: bool = False) -> dict[str, Any]:
    return {
        "feature_key": feature,
        "kind": "metered",
        "usage": usage,
        "limit": limit,
        "limit_type": "hard" if hard else "soft",
        "has_access": not hard or usage < limit,
    }


def _account(
    account_id: str, checks: list[dict[str, Any]], inbox: Sequence[dict[str, Any]] = ()
) -> AccountFacts:
    return AccountFacts(
        account_id,
        "growth",
        checks,
        {
            "features": [{"feature_key": "reports", "total": 300}],
            "impact": [{"metric": "hours saved", "value": 75}],
        },
        [{"name": "Busy month", "credits": "20"}],
        Decimal("20"),
        [{"kind": "early_access", "feature_key": "ai-insights"}],
        list(inbox),
        len(inbox),
    )


def _summary(emitted: set[str], receiver: WebhookReceiver, inbox: Sequence[dict[str, Any]] = ()) -> Summary:
    return Summary(
        tenant="demo-x",
        accounts=[
            _account("acct-1", [_check("reports", 270, 250), _check("exports", 10, 80)], inbox),
            _account("acct-2", [_check("reports", 40, 40, hard=True)]),
        ],
        ingest={"accepted": 1234.0, "duplicate": 12.0},
        deliveries=Counter({"succeeded": 3}),
        webhooks=receiver,
        emitted=emitted,
        preview={"title": "Your renewal is 30 days away", "body": "Sample note."},
    )


def test_reports_limits_rewards_and_says_which_signals_this_build_lacks() -> None:
    text = render(_summary(set(), WebhookReceiver()), RUN)
    assert "usage-ingest accepted 1,234 events (12 duplicates" in text
    assert "entitlements counted: 600 reports" in text and "~150 hours saved" in text
    assert "2 of 2 accounts at >= 80 %" in text
    assert "acct-1      growth      reports           270 / 250   108 %  soft limit: 20 over" in text
    assert "acct-2      growth      reports             40 / 40   100 %  hard limit: blocked" in text
    assert not [line for line in text.splitlines() if "exports" in line and "acct-1" in line]  # 12 %
    assert "Busy month             x2" in text and "credits granted: 40" in text
    assert "does not emit upgrade_suggested yet" in text
    assert "does not emit renewal_due_announced yet" in text and "Your renewal is 30 days away" in text


def test_shows_delivered_signals_and_a_real_renewal_reminder_when_they_exist() -> None:
    receiver = WebhookReceiver()
    payload = {
        "data": {
            "title": "Upgrade suggested: account acct-1",
            "body": "fits plan 'enterprise'",
            "event": {"type": UPGRADE_SUGGESTED},
        }
    }
    receiver.received["w-1"] = Received(CSM_HOOK, "w-1", payload)
    reminder = {
        "title": "Your renewal is 60 days away",
        "body": "This term your team generated 300 reports.",
        "category": "renewal",
    }
    text = render(_summary({RENEWAL_DUE, UPGRADE_SUGGESTED}, receiver, [reminder]), RUN)
    assert "upgrade suggestions: 1" in text and "fits plan 'enterprise'" in text
    assert "renewals at risk: none; this build" in text
    assert "1 in inboxes; acct-1's:" in text and "This term your team generated 300 reports." in text
    assert "Sample note." not in text
