"""The demo's summary as text for people."""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from tangible_demo.engagement import RENEWAL_AT_RISK, RENEWAL_DUE, UPGRADE_SUGGESTED
from tangible_demo.summary import AccountFacts, Summary

ROWS = 12


@dataclass(frozen=True)
class RunFacts:
    history_start: date
    today: date
    replay_seconds: float
    settle_seconds: float
    settled: bool


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(
        textwrap.fill(line, 96, initial_indent=prefix, subsequent_indent=prefix)
        for line in text.splitlines()
        if line
    )


def render(s: Summary, run: RunFacts) -> str:
    out: list[str] = []
    plans = Counter(f.plan for f in s.accounts)
    out += [
        "",
        f"=== Tangible demo: tenant {s.tenant} ===",
        f"{len(s.accounts)} accounts ({', '.join(f'{n} {p}' for p, n in sorted(plans.items()))}); "
        f"usage from {run.history_start} to {run.today} replayed in {run.replay_seconds:.0f} s, "
        f"processed {'within' if run.settled else 'NOT fully within'} {run.settle_seconds:.0f} s more.",
        "Every figure below is read from the services' APIs.",
        "",
    ]
    out += _usage(s)
    out += _limits(s)
    out += _rewards(s)
    out += _signals(s)
    out += _renewal(s)
    out += _inbox_and_webhooks(s)
    out += [f"note: {n}" for n in s.notes]
    return "\n".join(out) + "\n"


def _usage(s: Summary) -> list[str]:
    ingest = s.ingest
    lines = [
        f"usage-ingest accepted {_n(ingest.get('accepted', 0))} events "
        f"({_n(ingest.get('duplicate', 0))} duplicates not counted again, "
        f"{_n(ingest.get('conflict', 0))} conflicts, "
        f"{_n(ingest.get('rejected', 0))} rejected)",
    ]
    totals = s.feature_totals()
    if totals:
        lines.append(
            "entitlements counted: " + ", ".join(f"{_n(v)} {k}" for k, v in totals.most_common() if v)
        )
    impact = s.impact_totals()
    if impact:
        lines.append(
            "impact from the benefit mappings: " + ", ".join(f"~{_n(v)} {k}" for k, v in impact.most_common())
        )
        for facts in sorted(s.accounts, key=_hours_saved, reverse=True)[:3]:
            figures = ", ".join(f"~{_n(i['value'])} {i['metric']}" for i in facts.usage.get("impact", []))
            lines.append(f"  {facts.account_id} ({facts.plan}): {figures}")
    return [*lines, ""]


def _hours_saved(facts: AccountFacts) -> float:
    return sum(float(i["value"]) for i in facts.usage.get("impact", []) if i["metric"] == "hours saved")


def _limits(s: Summary) -> list[str]:
    near = s.near_limits()
    metered = [n for n in near if n.feature != "seats"]
    seats = [n for n in near if n.feature == "seats" and n.usage >= n.limit]
    accounts = {n.account_id for n in metered}
    lines = [
        "Entitlements near their limits this month (check API): "
        f"{len(accounts)} of {len(s.accounts)} accounts at >= 80 %"
    ]
    lines.append(f"  {'account':<11} {'plan':<11} {'feature':<11} {'usage / limit':>15} {'':>6}  state")
    for n in metered[:ROWS]:
        if n.usage < n.limit:
            state = "approaching"
        elif n.limit_type == "hard":
            state = "hard limit: blocked" if not n.has_access else "hard limit reached"
        else:
            state = f"soft limit: {_n(n.usage - n.limit)} over"
        used = f"{_n(n.usage)} / {_n(n.limit)}"
        lines.append(
            f"  {n.account_id:<11} {n.plan:<11} {n.feature:<11} {used:>15} {n.percent:>5.0f} %  {state}"
        )
    if len(metered) > ROWS:
        lines.append(f"  … and {len(metered) - ROWS} more")
    full = ", ".join(n.account_id for n in seats[:8]) + (" …" if len(seats) > 8 else "")
    lines.append(f"  seat pools fully assigned: {len(seats)}" + (f" ({full})" if seats else ""))
    return [*lines, ""]


def _rewards(s: Summary) -> list[str]:
    by_rule = s.rewards_by_rule()
    earned = {f.account_id for f in s.accounts if f.rewards}
    lines = [f"Milestones reached (rewards): {sum(by_rule.values())} rewards for {len(earned)} accounts"]
    lines += [f"  {name:<22} x{count}" for name, count in by_rule.most_common()]
    lines.append(f"  credits granted: {_n(float(s.credits_granted()))}")
    top = sorted(s.accounts, key=lambda f: -f.balance)[:5]
    lines.append(
        "  highest balances: " + ", ".join(f"{f.account_id} {_n(float(f.balance))}" for f in top if f.balance)
    )
    grants = Counter(f"{g['kind']} ({g['feature_key']})" for f in s.accounts for g in f.grants)
    if grants:
        lines.append("  applied by entitlements: " + ", ".join(f"{k} x{v}" for k, v in grants.most_common()))
    return [*lines, ""]


def _signal_line(data: dict[str, Any]) -> str:
    return f"    {data.get('title', '')}: {data.get('body', '')}"


def _signals(s: Summary) -> list[str]:
    lines = ["Customer-success signals (notifications -> the CSM webhook)"]
    received = s.signals()
    for event_type, label in (
        (UPGRADE_SUGGESTED, "upgrade suggestions"),
        (RENEWAL_AT_RISK, "renewals at risk"),
    ):
        items = [r for r in received if r.event_type == event_type]
        if items:
            lines.append(f"  {label}: {len(items)}")
            lines += [_signal_line(r.payload["data"]) for r in items[:6]]
        elif event_type in s.emitted:
            lines.append(f"  {label}: none in this run")
        else:
            name = event_type.rsplit(".", 1)[-1]
            lines.append(f"  {label}: none; this build of entitlements does not emit {name} yet")
    return [*lines, ""]


def _renewal(s: Summary) -> list[str]:
    lines = ["Renewal reminder with its impact note"]
    reminders = s.inbox_items("renewal")
    if reminders:
        account, item = reminders[0]
        lines.append(f"  {len(reminders)} in inboxes; {account}'s:")
        lines += [f"    {item['title']}", _indent(item["body"])]
        return [*lines, ""]
    if RENEWAL_DUE in s.emitted:
        lines.append("  none delivered in this run (no license reached a renewal lead time)")
    else:
        lines.append(
            "  entitlements in this build does not emit renewal_due_announced yet, so no reminder was sent;"
        )
        lines.append("  the tenant's reminder template as notifications previews it (sample figures):")
    if s.preview:
        lines += [f"    {s.preview['title']}", _indent(s.preview["body"])]
    notes = s.limit_notes()
    if notes:
        data = notes[0].payload["data"]
        lines.append("  the same impact note with real figures, from a 'limit reached' webhook:")
        lines += [f"    {data['title']}", _indent(data["body"])]
    return [*lines, ""]


def _inbox_and_webhooks(s: Summary) -> list[str]:
    inbox = s.inbox_items()
    by_category = Counter(item["category"] for _, item in inbox)
    attempts = s.webhooks.attempts
    by_type = Counter(r.event_type.rsplit(".", 1)[-1] for r in s.webhooks.received.values())
    lines = [
        f"In-app inbox: {len(inbox)} items in {len({a for a, _ in inbox})} accounts ("
        + ", ".join(f"{k} {v}" for k, v in by_category.most_common())
        + ")",
        "",
        f"Webhooks received by the demo's endpoint {s.webhooks.url}: {len(s.webhooks.received)}, "
        f"{attempts['verified']} Standard Webhooks signatures verified, "
        f"{attempts['bad-signature']} rejected, "
        f"{attempts['redelivered']} redeliveries deduplicated by webhook-id",
        "  by event: " + ", ".join(f"{k} {v}" for k, v in by_type.most_common()),
        "  notifications' delivery log (webhooks): "
        + ", ".join(f"{v} {k}" for k, v in s.deliveries.most_common() if v),
    ]
    sample = next(iter(s.product_webhooks()), None)
    if sample is not None:
        lines.append(f'  e.g. webhook-id {sample.webhook_id}: "{sample.payload["data"].get("title", "")}"')
    return [*lines, ""]
