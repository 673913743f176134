"""One chaos run: infrastructure and every role up, the tenant provisioned, the simulator's
load under the fault schedule, convergence, then every invariant against the tally."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from chaos.faults import FaultInjector, Profile, schedule, sender_outages
from chaos.invariants import check
from chaos.observe import backlog, consumer_lag, observe
from chaos.receiver import WebhookReceiver
from chaos.report import REPORTS, ChaosReport
from chaos.stack import ChaosStack
from chaos.tally import ChaosTally, build_expected, wire_id
from chaos.tenant import RULE_CHANNELS, Provisioned, provision
from tangible_client import RetryPolicy
from tangible_devstack.scenario import bearer, term_around
from tangible_simulator.generator import SOURCE, Options
from tangible_simulator.population import build_population
from tangible_simulator.runner import Plan, simulate

EVENTS_PER_ACCOUNT_DAY = 225  # the simulator's population, on average (see population.PLANS)
LEASE_SECONDS = 40  # a killed sender's deliveries go again this soon (≥ 2 × (webhook timeout 10 s + 5))


def _say(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


def _service_env(stack: ChaosStack, receiver: WebhookReceiver) -> dict[str, dict[str, str]]:
    return {
        "notifications": {
            "TANGIBLE_AUTH_PRIVATE_KEY": str(stack.private_key),
            "NOTIFICATIONS_SECRETS_KEY": Fernet.generate_key().decode(),
            "NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true",
            # retries in seconds, and a killed sender's lease back soon, so the run converges
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "0.3",
            "NOTIFICATIONS_RETRY_CAP_SECONDS": "4",
            "NOTIFICATIONS_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "10",  # under the lease: a slow answer is not sent twice
            # the run sends a week of live usage: last month's thresholds still notify (by
            # default a signal older than 48 h is history, see notifications' domain/past.py)
            "NOTIFICATIONS_PAST_SIGNAL_HOURS": str(14 * 24),
        },
    }


async def _send_unknown(stack: ChaosStack, count: int) -> dict[str, tuple[str, float]]:
    """Usage for accounts without a license: entitlements must park each one (not dead-letter)."""
    events: list[dict[str, Any]] = [
        {
            "specversion": "1.0",
            "id": f"ghost-{uuid.uuid4()}",
            "source": SOURCE,
            "type": "report.generated",
            "subject": f"ghost-{n:02d}",
            "time": datetime.now(UTC).isoformat(),
            "data": {"quantity": 1},
        }
        for n in range(count)
    ]
    async with httpx.AsyncClient(base_url=stack.url("usage-ingest"), timeout=30) as client:
        response = await client.post(
            "/v1/events",
            json=events,
            headers={**bearer(stack.token("ingest")), "Content-Type": "application/cloudevents-batch+json"},
        )
    if response.status_code != 202 or response.json()["accepted"] != count:
        raise RuntimeError(f"unknown-account events: {response.status_code} {response.text[:300]}")
    return {wire_id(stack.tenant_id, SOURCE, e["id"]): (e["subject"], 1.0) for e in events}


async def _converge(stack: ChaosStack, timeout: float) -> float:
    """Seconds until two polls in a row find every lag, outbox and delivery settled."""
    began = time.monotonic()
    clean = 0
    while clean < 2:
        if time.monotonic() - began > timeout:
            _say("did not converge in time; checking anyway")
            break
        try:
            lag = await consumer_lag(stack)
            outbox, unsettled = await backlog(stack)
            settled = not any(lag.values()) and not any(outbox.values()) and not unsettled
            clean = clean + 1 if settled else 0
            if not settled:
                _say(f"waiting: lag {lag}, outbox {outbox}, unsettled deliveries {unsettled}")
        except Exception as error:  # the broker may still be coming back
            _say(f"waiting: {type(error).__name__}: {error}")
            clean = 0
        await asyncio.sleep(3)
    return time.monotonic() - began


async def _run(stack: ChaosStack, profile: Profile, receiver: WebhookReceiver, report: ChaosReport) -> None:
    await receiver.start()
    try:
        accounts = build_population(profile.accounts, seed=profile.seed)
        provisioned: Provisioned = await provision(
            entitlements=stack.url("entitlements"),
            rewards=stack.url("rewards"),
            notifications=stack.url("notifications"),
            admin_token=stack.token("admin"),
            accounts=accounts,
            webhook_url=receiver.url,
        )
        receiver.trust(provisioned.webhook_secret)
        _say(f"provisioned tenant {stack.tenant_id}: {len(accounts)} licenses")
        unknown = await _send_unknown(stack, profile.unknown_events)
        density = profile.accounts * EVENTS_PER_ACCOUNT_DAY / 86400  # events per simulated second
        start = (datetime.now(UTC) - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
        report.dates = {
            "licenses": " to ".join(term_around(datetime.now(UTC))),
            "usage from": start.isoformat(),
        }
        plan = Plan(
            url=stack.url("usage-ingest"),
            token=stack.token("ingest"),
            accounts=profile.accounts,
            seed=profile.seed,
            # a week back: however weekends slow the stream, no event lands in the future
            start=start,
            speed=4 * profile.rate / density,
            duration=3600,
            rate=profile.rate,
            max_events=profile.events,
            connections=4,
            options=Options(duplicate_rate=profile.duplicate_rate, conflict_rate=profile.conflict_rate),
            # the ingest API is SIGKILLed in scaled-out runs and may take a minute to come back
            # on a loaded machine: the client keeps every batch until then
            retry=RetryPolicy(max_attempts=30, deadline=900),
        )
        injector = FaultInjector(stack)
        plan_of_faults = schedule(
            profile,
            processes=list(stack.processes),
            replicas=[name for name, p in stack.processes.items() if p.replica > 1],
            partitioned=stack.partition_proxy,
        )
        faults = asyncio.create_task(injector.run(plan_of_faults))
        tally = ChaosTally(stack.tenant_id)
        await simulate(plan, tally)
        report.timings["load"] = time.monotonic() - injector.began
        report.dates["usage to"] = datetime.now(UTC).isoformat(timespec="seconds")
        _say(f"load done in {report.timings['load']:.0f}s: {dict(tally.outcomes)}")
        await faults
        report.faults = injector.log
        report.timings["faults_done"] = time.monotonic() - injector.began
        report.timings["converge_after_faults"] = await _converge(stack, profile.converge_timeout)
        expected = build_expected(tally, plan_of=provisioned.plan_of, unknown=unknown)
        observed = await observe(
            stack, receiver, accounts=[a.id for a in accounts], rule_keys=provisioned.rule_keys
        )
        observed.acknowledged_at = receiver.acknowledgements_since(injector.began)
        observed.sender_outages = sender_outages(injector.log, LEASE_SECONDS)
        observed.sigterm_exits = [
            (f.target, f.exit_code) for f in injector.log if f.kind in ("term", "scale")
        ]
        report.results = check(expected, observed, rule_channels=RULE_CHANNELS)
        report.events = {**tally.as_dict(), "unknown_account": len(unknown)}
        for key in ("usage", "events", "active_users"):
            report.events.pop(key, None)
        dead = [p.name for p in stack.processes.values() if not p.alive()]
        if dead:
            report.notes.append(f"processes not running at the end: {dead}")
    finally:
        report.receiver = {
            "requests": receiver.requests,
            "answered_503": receiver.failed,
            "acknowledged_ids": len(receiver.acknowledged),
            "bad_signatures": receiver.bad_signatures,
        }
        await receiver.stop()


def run_chaos(profile: Profile, workdir: Path | None = None) -> ChaosReport:
    """Runs the profile end to end; everything it started is stopped when it returns."""
    report = ChaosReport(profile, datetime.now(UTC).isoformat(timespec="seconds"))
    began = time.monotonic()
    own = workdir is None
    folder = workdir or Path(tempfile.mkdtemp(prefix="tangible-chaos-"))
    with ExitStack() as exits:
        if own:
            exits.callback(shutil.rmtree, folder, True)
        # the partition cuts entitlements from its database: its check API must answer from memory
        stack = ChaosStack(
            folder, replicas=profile.replicas, partitioned="entitlements" if profile.partitions else None
        )
        receiver = WebhookReceiver(seed=profile.seed)
        _say(f"starting Kafka, PostgreSQL and toxiproxy in {folder}")
        stack.start_infrastructure(exits)
        stack.start_services(exits, _service_env(stack, receiver))
        report.timings["startup"] = time.monotonic() - began
        _say(f"{len(stack.processes)} role processes ready in {report.timings['startup']:.0f}s")
        asyncio.run(_run(stack, profile, receiver, report))
        report.processes = {p.name: p.starts for p in stack.processes.values()}
        if not report.passed:
            kept = REPORTS / f"{profile.name}-logs"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(folder / "logs", kept)
            for log in (stack.broker.log_path, stack.postgres.data_dir / "server.log"):
                if log.exists():
                    shutil.copy(log, kept / f"{log.parent.name}-{log.name}")
            report.notes.append(f"logs of every role process: {kept}")
    report.timings["total"] = time.monotonic() - began
    return report
