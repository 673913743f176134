"""The invariants of a chaos run: what the tally implies versus what the services report.

Pure code: `Expected` comes from the run's own tally and provisioning, `Observed` from the
services' APIs and databases (chaos/observe.py). Every check names what broke: a double
count (more than the tally), a loss (less), or a breach of the ledger's or the
notifications' own rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

DLQ_USAGE = "tangible.dlq.entitlements-usage"


@dataclass
class Expected:
    """What the run's tally and provisioning imply."""

    usage: dict[str, dict[str, float]]  # licensed account → usage type → accepted quantity
    event_ids: set[str]  # wire ids of accepted events the usage consumers must have handled
    dead_letters: dict[str, str]  # wire id → reason, in the entitlements usage dead-letter topic
    rewards: dict[tuple[str, str], Decimal]  # (account, rule key) reached → credits it grants
    crossings: dict[str, int]  # account → threshold crossings (features × periods × percents)
    sends_failed: int = 0  # sends the client gave up on: their outcome is unknown
    # wire ids of events for accounts with no license, which entitlements parks (handled: its
    # inbox keeps them) until a license comes, and rewards counts
    parked: set[str] = field(default_factory=set)


@dataclass
class Observed:
    """What the services say after convergence."""

    usage_api: dict[str, dict[str, float]]  # account → usage type → usage report total
    usage_db: dict[str, dict[str, float]]  # account → usage type → sum of counters
    consumed_ids: dict[str, set[str]]  # usage consumer → wire ids claimed in its inbox
    rewards: list[tuple[str, str]]  # one (account, rule key) per reward row
    balances: dict[str, Decimal]  # account → credit balance (API)
    ledger_breaches: list[str]  # unbalanced transactions, balances or buckets ≠ their entries
    threshold_marks: dict[str, int]  # account → crossing marks in entitlements
    notifications: list[tuple[str, str, str, str]]  # (account, rule key, channel, source event)
    notification_keys_repeated: int  # (source event, rule, recipient, channel) seen twice
    webhook_deliveries: dict[str, str]  # delivery id (= webhook-id) → status
    acknowledged: dict[str, int]  # webhook-id → 2xx answers the receiver gave for it
    bad_signatures: int
    dead_letters: dict[str, list[tuple[str, str]]]  # topic → (wire id, reason)
    lag: dict[str, int] = field(default_factory=dict)  # consumer group → records behind
    outbox: dict[str, int] = field(default_factory=dict)  # service → rows waiting
    unsettled_deliveries: int = 0
    usage_topic_ids: set[str] | None = None  # wire ids on the usage topic (None: not read)
    acknowledged_at: dict[str, list[float]] = field(default_factory=dict)  # webhook-id → seconds
    recorded_successes: dict[str, int] = field(default_factory=dict)  # delivery → succeeded attempts
    # (from, to, what): a fault in which the sender may lose a receiver's answer unrecorded
    sender_outages: list[tuple[float, float, str]] = field(default_factory=list)
    sigterm_exits: list[tuple[str, int | None]] = field(default_factory=list)  # (process, exit code)


@dataclass
class Result:
    name: str
    passed: bool
    detail: str
    problems: list[str] = field(default_factory=list)
    explained: list[str] = field(default_factory=list)  # allowed, and why (shown in the report)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_usage(
    expected: dict[str, dict[str, float]], observed: dict[str, dict[str, float]]
) -> tuple[list[str], float, float]:
    """Per account and type: 'double count' where observed > expected, 'loss' where less."""
    problems: list[str] = []
    extra = lost = 0.0
    for account in sorted(set(expected) | set(observed)):
        want, got = expected.get(account, {}), observed.get(account, {})
        for usage_type in sorted(set(want) | set(got)):
            w, g = want.get(usage_type, 0.0), got.get(usage_type, 0.0)
            if abs(w - g) > 1e-9:
                kind = "double count" if g > w else "loss"
                problems.append(f"{kind}: {account} {usage_type} counted {g:g}, tally {w:g}")
                extra, lost = (extra + g - w, lost) if g > w else (extra, lost + w - g)
    return problems, extra, lost


def _usage(name: str, expected: Expected, observed: dict[str, dict[str, float]], source: str) -> Result:
    problems, extra, lost = compare_usage(expected.usage, observed)
    total = sum(sum(t.values()) for t in expected.usage.values())
    detail = f"{len(expected.usage)} accounts, {total:g} units: {source} equals the tally"
    if problems:
        detail = f"{len(problems)} mismatches: {extra:g} counted twice, {lost:g} lost ({source})"
    return Result(name, not problems, detail, problems[:50])


def _durable(expected: Expected, observed: Observed) -> Result:
    """202 means durable: every accepted event (and each unknown-account one) is in Kafka."""
    if observed.usage_topic_ids is None:
        return Result("accepted_events_in_kafka", True, "not checked")
    missing = (expected.event_ids | set(expected.dead_letters) | expected.parked) - observed.usage_topic_ids
    extra = observed.usage_topic_ids - expected.event_ids - set(expected.dead_letters) - expected.parked
    problems = (
        [f"{len(missing)} accepted events are not on the usage topic (lost after 202)"] if missing else []
    )
    if extra:
        problems.append(f"{len(extra)} events on the usage topic were never accepted")
    detail = f"{len(observed.usage_topic_ids)} distinct events on the usage topic, as accepted"
    return Result("accepted_events_in_kafka", not problems, "; ".join(problems) or detail, problems)


def _consumed(expected: Expected, observed: Observed) -> Result:
    """Each usage consumer handled exactly the accepted events (plus the dead-lettered ones,
    which rewards claims; entitlements releases the claim of a record it refuses, so that a
    replay of the dead letter applies it): an id outside that set is a rejected or
    conflicting event that got in; a missing one is a loss."""
    problems: list[str] = []
    for consumer, ids in sorted(observed.consumed_ids.items()):
        dead = set(expected.dead_letters)
        wanted = expected.event_ids | expected.parked | (set() if consumer == "entitlements-usage" else dead)
        extra, missing = ids - wanted, wanted - ids
        if extra:
            problems.append(f"{consumer}: {len(extra)} events handled that were never accepted")
        if missing:
            problems.append(f"{consumer}: {len(missing)} accepted events never handled (lost)")
    detail = (
        f"{len(expected.event_ids)} accepted events handled by {len(observed.consumed_ids)} consumers"
        if not problems
        else "; ".join(problems)
    )
    return Result("no_rejected_or_conflicting_event_counted", not problems, detail, problems)


def _rewards(expected: Expected, observed: Observed) -> Result:
    counts = Counter(observed.rewards)
    problems = [
        f"{'rewarded twice' if n > 1 else 'rewarded without reaching it'}: {a} {r} ×{n}"
        for (a, r), n in sorted(counts.items())
        if n > 1 or (a, r) not in expected.rewards
    ]
    problems += [
        f"milestone lost: {a} {r} reached, never rewarded"
        for (a, r) in sorted(expected.rewards)
        if (a, r) not in counts
    ]
    detail = (
        f"{len(expected.rewards)} milestones reached, each rewarded once"
        if not problems
        else f"{len(problems)} wrong"
    )
    return Result("milestones_rewarded_exactly_once", not problems, detail, problems[:50])


def _ledger(expected: Expected, observed: Observed) -> Result:
    credits: dict[str, Decimal] = {}
    for (account, _), amount in expected.rewards.items():
        credits[account] = credits.get(account, Decimal(0)) + amount
    problems = list(observed.ledger_breaches)
    for account in sorted(set(credits) | set(observed.balances)):
        want, got = credits.get(account, Decimal(0)), observed.balances.get(account, Decimal(0))
        if want != got:
            problems.append(f"balance {account}: {got}, milestones imply {want}")
    total = sum(credits.values(), Decimal(0))
    detail = (
        f"every transaction balanced, {len(credits)} balances = entries = {total} credits"
        if not problems
        else f"{len(problems)} breaches"
    )
    return Result("ledger_balanced", not problems, detail, problems[:50])


def _thresholds(expected: Expected, observed: Observed) -> Result:
    problems = [
        f"{account}: {observed.threshold_marks.get(account, 0)} crossings, tally implies {n}"
        for account, n in sorted({**observed.threshold_marks, **expected.crossings}.items())
        if observed.threshold_marks.get(account, 0) != expected.crossings.get(account, 0)
    ]
    total = sum(expected.crossings.values())
    detail = (
        f"{total} threshold crossings, as the tally implies"
        if not problems
        else f"{len(problems)} accounts wrong"
    )
    return Result("thresholds_crossed_once_per_period", not problems, detail, problems[:50])


def _notifications(expected: Expected, observed: Observed, channels: dict[str, list[str]]) -> Result:
    """`channels`: rule key → its channels. One notification per (event, rule, recipient,
    channel): per account, as many per channel as the rule's source events."""
    want: Counter[tuple[str, str, str]] = Counter()
    for account, n in expected.crossings.items():
        for channel in channels.get("thresholds", []):
            want[(account, "thresholds", channel)] += n
    for account, _ in expected.rewards:
        for channel in channels.get("rewards", []):
            want[(account, "rewards", channel)] += 1
    got = Counter((a, r, c) for a, r, c, _ in observed.notifications)
    problems = [
        f"{'duplicated' if got[k] > want[k] else 'missing'}: {k[0]} rule {k[1]} {k[2]}: "
        f"{got[k]}, expected {want[k]}"
        for k in sorted(set(want) | set(got))
        if got[k] != want[k]
    ]
    if observed.notification_keys_repeated:
        problems.append(f"{observed.notification_keys_repeated} (event, rule, recipient, channel) keys twice")
    detail = (
        f"{sum(want.values())} notifications, one per event, rule, recipient and channel"
        if not problems
        else f"{len(problems)} wrong"
    )
    return Result("one_notification_per_event_rule_recipient_channel", not problems, detail, problems[:50])


def _lost_answer(at: float, outages: list[tuple[float, float, str]]) -> str | None:
    return next((what for begin, end, what in outages if begin <= at <= end), None)


def _webhooks(observed: Observed) -> Result:
    """Every delivery succeeded, its success recorded once, each webhook-id acknowledged once.
    The one allowed exception is at-least-once's own: an acknowledgement the sender could not
    record because it was SIGKILLed or lost PostgreSQL right then (the delivery is sent again
    after its lease; Standard Webhooks receivers dedupe on webhook-id). Each such repeat must
    fall in one of those fault windows, else it is a double delivery."""
    deliveries = observed.webhook_deliveries
    problems = [f"delivery {d} ended {s}" for d, s in sorted(deliveries.items()) if s != "succeeded"]
    problems += [
        f"delivery {d}: success recorded {n} times"
        for d, n in sorted(observed.recorded_successes.items())
        if n > 1
    ]
    explained: list[str] = []
    for webhook_id, n in sorted(observed.acknowledged.items()):
        if n < 2:
            continue
        earlier = observed.acknowledged_at.get(webhook_id, [])[:-1]
        reasons = [_lost_answer(at, observed.sender_outages) for at in earlier]
        if len(earlier) == n - 1 and all(reasons):
            explained += [
                f"webhook-id {webhook_id} acknowledged at {at:.1f}s, answer lost ({why}), sent again"
                for at, why in zip(earlier, reasons, strict=True)
            ]
        else:
            times = ", ".join(f"{at:.1f}s" for at in observed.acknowledged_at.get(webhook_id, []))
            problems.append(
                f"webhook-id {webhook_id} acknowledged {n} times" + (f" (at {times})" if times else "")
            )
    never = [d for d, s in deliveries.items() if s == "succeeded" and d not in observed.acknowledged]
    problems += [f"delivery {d} marked succeeded, never acknowledged" for d in sorted(never)]
    unknown = set(observed.acknowledged) - set(deliveries)
    problems += [f"acknowledged an unknown webhook-id {w}" for w in sorted(unknown)]
    if observed.bad_signatures:
        problems.append(f"{observed.bad_signatures} requests with an invalid signature")
    detail = f"{len(deliveries)} webhooks delivered until acknowledged, none twice"
    if explained:
        detail = (
            f"{len(deliveries)} webhooks delivered until acknowledged; {len(explained)} sent again only"
            " because a fault took the sender's record of the receiver's answer (see below)"
        )
    if problems:
        detail = f"{len(problems)} wrong"
    return Result(
        "webhooks_delivered_until_acknowledged_once", not problems, detail, problems[:50], explained[:50]
    )


def _dead_letters(expected: Expected, observed: Observed) -> Result:
    problems: list[str] = []
    for topic, records in sorted(observed.dead_letters.items()):
        if topic != DLQ_USAGE:
            problems += [f"{topic}: unexpected {wire_id} ({reason})" for wire_id, reason in records]
    usage = Counter(observed.dead_letters.get(DLQ_USAGE, []))
    for (wire_id, reason), _n in sorted(usage.items()):
        if expected.dead_letters.get(wire_id) != reason:
            problems.append(f"{DLQ_USAGE}: unexpected {wire_id} ({reason})")
        # n > 1 is allowed: a refused record's inbox claim is released (so that a replay of
        # the dead letter applies it), so a redelivery refuses it again; the dead-letter
        # admin lists and replays it once (tangible_runtime.dead_letters)
    present = {wire_id for wire_id, _ in usage}
    problems += [
        f"{DLQ_USAGE}: missing {w} ({r})"
        for w, r in sorted(expected.dead_letters.items())
        if w not in present
    ]
    detail = (
        f"only the {len(expected.dead_letters)} expected events, each with its reason"
        if not problems
        else f"{len(problems)} wrong"
    )
    return Result("dead_letters_only_what_belongs_there", not problems, detail, problems[:50])


def _converged(observed: Observed) -> Result:
    problems = [f"{g}: lag {n}" for g, n in sorted(observed.lag.items()) if n]
    problems += [f"{s}: outbox {n}" for s, n in sorted(observed.outbox.items()) if n]
    if observed.unsettled_deliveries:
        problems.append(f"{observed.unsettled_deliveries} deliveries not settled")
    detail = (
        f"{len(observed.lag)} consumer groups at lag 0, outboxes empty, deliveries settled"
        if not problems
        else "; ".join(problems)
    )
    return Result("converged", not problems, detail, problems)


def _sigterm(observed: Observed) -> Result:
    """A SIGTERMed role finishes or abandons its batch and exits 0 by itself (no SIGKILL);
    that nothing was lost or doubled by it, the other invariants say."""
    problems = [
        f"{name}: {'had to be SIGKILLed' if code is None else f'exit code {code}'} after SIGTERM"
        for name, code in observed.sigterm_exits
        if code != 0
    ]
    detail = f"{len(observed.sigterm_exits)} processes stopped by SIGTERM under load, each exit 0"
    return Result("sigterm_stops_cleanly", not problems, "; ".join(problems) or detail, problems)


def check(expected: Expected, observed: Observed, *, rule_channels: dict[str, list[str]]) -> list[Result]:
    """Every invariant, in the order the report lists them."""
    judged = Result(
        "every_send_judged",
        expected.sends_failed == 0,
        "every send got the server's verdict"
        if not expected.sends_failed
        else f"{expected.sends_failed} sends failed: outcome unknown",
    )
    return [
        judged,
        _converged(observed),
        _durable(expected, observed),
        _usage("usage_counted_exactly_once_api", expected, observed.usage_api, "usage report"),
        _usage("usage_counted_exactly_once_db", expected, observed.usage_db, "counters"),
        _consumed(expected, observed),
        _rewards(expected, observed),
        _ledger(expected, observed),
        _thresholds(expected, observed),
        _notifications(expected, observed, rule_channels),
        _webhooks(observed),
        _dead_letters(expected, observed),
        _sigterm(observed),
    ]
