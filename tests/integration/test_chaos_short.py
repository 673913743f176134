"""The chaos run's short profile inside the test suite: the whole system as separate role
processes on its own Kafka and PostgreSQL; SIGKILLs of every consumer, relay and sender, then
a SIGTERM of each and of the ingest API; a broker and a PostgreSQL restart; latency and
connection resets; a webhook receiver failing half the time. Then every invariant against the
run's own tally (`make chaos` runs the full profile)."""

from __future__ import annotations

import pytest

from chaos.faults import PROFILES, TERM_TARGETS
from chaos.run import run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.long(170)]


@pytest.mark.timeout(900)  # the run converges in about two minutes; a stuck one fails here
def test_the_short_chaos_profile_keeps_every_invariant() -> None:
    report = run_chaos(PROFILES["short"])
    report.write()
    kinds = {fault.kind for fault in report.faults}
    assert kinds == {"kill", "term", "broker_restart", "postgres_restart", "latency", "reset_peer"}, kinds
    assert all(report.processes[target] >= 2 for target in TERM_TARGETS), report.processes
    assert report.events["outcomes"]["duplicate"] > 0 and report.events["outcomes"]["conflict"] > 0
    assert report.passed, report.markdown()
