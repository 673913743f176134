"""One demo run: provision a fresh tenant, replay weeks of usage, wait, read the results."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx

from tangible_demo import provision
from tangible_demo.catalog import FEATURES, PLANS, LicenseSpec, license_specs
from tangible_demo.engagement import MILESTONES, RULES
from tangible_demo.portal import portal_page, showcase
from tangible_demo.receiver import WebhookReceiver
from tangible_demo.render import RunFacts, render
from tangible_demo.report import write_report
from tangible_demo.settle import metric_sums, settle
from tangible_demo.stack import Stack
from tangible_demo.summary import (
    AccountFacts,
    Summary,
    account_facts,
    ingest_counts,
    lifecycle_events_emitted,
    renewal_preview,
    webhook_deliveries,
)
from tangible_simulator.generator import Options
from tangible_simulator.population import build_population
from tangible_simulator.runner import Plan, simulate
from tangible_simulator.tally import Tally


@dataclass(frozen=True)
class DemoOptions:
    accounts: int = 40
    duration: float = 60.0  # real seconds of replay
    history_days: float = 56.0  # simulated days replayed, ending now
    volume: float = 0.15  # share of the simulator's full per-user volume
    seed: int = 7
    rate: float = 20_000.0  # cap on events per second
    settle_timeout: float = 180.0
    tenant: str | None = None


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


async def _clients(
    stack: Stack, tenant: str, scope: str, exits: AsyncExitStack
) -> dict[str, httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(tenant, scope)}"}
    return {
        name: await exits.enter_async_context(httpx.AsyncClient(base_url=url, headers=headers, timeout=30))
        for name, url in stack.urls.items()
    }


def _progress() -> Callable[[datetime, int], None]:
    last = [0.0]

    def report(at: datetime, sent: int) -> None:
        if time.monotonic() - last[0] >= 10:
            last[0] = time.monotonic()
            say(f"  simulated {at:%Y-%m-%d %H:%M} UTC, {sent:,} events sent")

    return report


async def run_demo(stack: Stack, options: DemoOptions) -> str:
    now = datetime.now(UTC)
    tenant = options.tenant or f"demo-{now:%m%d-%H%M%S}"
    history_start = now - timedelta(days=options.history_days)
    accounts = build_population(options.accounts, seed=options.seed)
    specs = license_specs(accounts, today=now.date(), history_start=history_start.date(), seed=options.seed)
    receiver = WebhookReceiver()
    serving = await receiver.serve()
    try:
        async with AsyncExitStack() as exits:
            admin = await _clients(stack, tenant, "admin", exits)
            read = await _clients(stack, tenant, "read", exits)
            admins = provision.Admin(admin["entitlements"], admin["rewards"], admin["notifications"])
            say(f"provisioning tenant '{tenant}' through the public APIs")
            await provision.catalog(admins)
            await provision.licenses(admins, specs)
            await provision.milestones(admins)
            await provision.notifications(admins, receiver)
            soon = sum(1 for s in specs if (s.term_end - now.date()).days <= 90)
            say(
                f"  {len(FEATURES)} features with benefit mappings, {len(PLANS)} plans and an add-on; "
                f"{len(specs)} licenses ({soon} renew within 90 days), "
                f"{sum(len(s.users) for s in specs)} seats assigned; {len(MILESTONES)} milestone rules; "
                f"{len(RULES)} notification rules; webhook receiver on {receiver.url}"
            )
            before = await _side_counts(read)
            replay_started = time.monotonic()
            tally = await _replay(stack, tenant, options, history_start, now)
            replay_seconds = time.monotonic() - replay_started
            say(
                f"  the simulator sent {sum(tally.sent.values()):,} events "
                f"({tally.sent['duplicate']:,} deliberate duplicates) in {replay_seconds:.0f} s"
            )
            say("waiting for the services to work it off")
            settled, waited = await settle(
                read, admin["notifications"], lambda: len(receiver.received), timeout=options.settle_timeout
            )
            summary = await _summary(
                read, admin["notifications"], receiver, tenant, specs, history_start.date(), now.date()
            )
            summary.notes += _side_notes(before, await _side_counts(read))
            account = showcase(summary)
            page = (
                await portal_page(admin["entitlements"], stack.urls, account.account_id) if account else None
            )
            written = (
                await write_report(
                    read["notifications"], account.account_id, history_start.date(), now.date()
                )
                if account
                else None
            )
    finally:
        await serving.stop()
    run = RunFacts(history_start.date(), now.date(), replay_seconds, waited, settled)
    text = render(summary, run)
    if account is not None and page is not None:
        text += (
            f"\nSee it as customer {account.account_id} does (web components, live, portal token valid "
            f"24 h; open while the system runs):\n  {page}\n"
        )
    if account is not None and written is not None:
        text += (
            f"\nIts impact report (notifications, GET /v1/accounts/{account.account_id}/report):\n"
            f"  HTML: {written.html}\n  PDF:  {written.pdf}\n"
            f"  share link (read-only, no login, 7 days): {written.share_url}\n"
        )
    return text


async def _replay(stack: Stack, tenant: str, options: DemoOptions, start: datetime, end: datetime) -> Tally:
    plan = Plan(
        url=stack.urls["usage-ingest"],
        token=stack.token(tenant, "ingest"),
        accounts=options.accounts,
        seed=options.seed,
        start=start,
        until=end,
        speed=(end - start).total_seconds() / options.duration,
        duration=options.duration * 3,  # time to catch up if the machine is slow; `until` ends it
        rate=options.rate,
        options=Options(late_rate=0.03, duplicate_rate=0.02, volume=options.volume),
        progress=_progress(),
    )
    days, seconds = options.history_days, options.duration
    say(f"replaying {days:.0f} days of usage of {options.accounts} accounts in ~{seconds:.0f} s")
    return await simulate(plan)


async def _summary(
    read: dict[str, httpx.AsyncClient],
    notifications_admin: httpx.AsyncClient,
    receiver: WebhookReceiver,
    tenant: str,
    specs: list[LicenseSpec],
    history_start: date,
    today: date,
) -> Summary:
    semaphore = asyncio.Semaphore(8)

    async def facts(account_id: str, plan: str) -> AccountFacts:
        async with semaphore:
            return await account_facts(read, account_id, plan, history_start, today)

    accounts = await asyncio.gather(*(facts(s.account_id, s.plan_key) for s in specs))
    deliveries, webhooks = await _agreeing(notifications_admin, receiver)
    summary = Summary(
        tenant=tenant,
        accounts=list(accounts),
        ingest=await ingest_counts(read["usage-ingest"], tenant),
        deliveries=deliveries,
        webhooks=webhooks,
        emitted=lifecycle_events_emitted(),
    )
    summary.preview = await renewal_preview(notifications_admin)
    return summary


async def _agreeing(
    notifications_admin: httpx.AsyncClient, receiver: WebhookReceiver, tries: int = 20
) -> tuple[Counter[str], WebhookReceiver]:
    """The delivery log and what the receiver holds, read until they agree: a webhook in
    flight (received, its answer not recorded yet) or one sent between the two reads would
    make the summary contradict itself. Still apart after `tries` half-seconds, it says so."""
    for _ in range(tries):
        seen = receiver.snapshot()
        deliveries = await webhook_deliveries(notifications_admin)
        if deliveries["succeeded"] == len(seen.received) and not deliveries["pending"]:
            break
        await asyncio.sleep(0.5)
    return deliveries, seen


async def _side_counts(read: dict[str, httpx.AsyncClient]) -> dict[str, float]:
    rewards = await metric_sums(read["rewards"], ("rewards_usage_too_late_total",))
    entitlements = await metric_sums(read["entitlements"], ("dead_letters_total",))
    return {**rewards, **entitlements}


def _side_notes(before: dict[str, float], after: dict[str, float]) -> list[str]:
    notes = []
    late = after["rewards_usage_too_late_total"] - before["rewards_usage_too_late_total"]
    if late > 0:
        notes.append(
            f"rewards did not count {late:,.0f} usage events that arrived after its late window "
            "(REWARDS_LATE_EVENT_WINDOW_HOURS; `make run` widens it for replays like this one)"
        )
    dead = after["dead_letters_total"] - before["dead_letters_total"]
    if dead > 0:
        notes.append(f"entitlements sent {dead:,.0f} records to its dead-letter topic during the run")
    return notes
