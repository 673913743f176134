"""The date-sensitive part of the suite, run as if it were another day.

Each case starts a pytest of its own with libfaketime preloaded and the clock offset to
the case's moment, so the services, `make run` and everything else the inner tests start
see that date; the clock keeps ticking from there, which is the point of the moments just
before a boundary (a usage event sent at 23:59:5x is read after midnight). Kafka and
PostgreSQL keep the real clock (`tangible_devstack.processes.real_clock_env`): the inner
run reuses this session's broker and database server, and in production too only the
services' clock is an input to what they compute.
"""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tangible_devstack.infrastructure import Infrastructure
from tangible_devstack.pytest_plugin import MigratedTemplates

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
LIBFAKETIME = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))

# the tests that meet services on the wall clock: the whole flow in process and through
# `make run`'s processes, usage-ingest's own time rules, and `make demo`
FLOW = "tests/integration/test_end_to_end.py::test_one_usage_event_reaches_entitlements_rewards_and_the_inbox"
MAKE_RUN = "tests/integration/test_make_run.py"
INGEST_TIME = "services/usage-ingest/tests/integration/test_post_events.py"
DEMO = "libs/demo/tests/integration/test_make_demo.py"  # `make demo`'s history ends "now"


@dataclass(frozen=True)
class Moment:
    name: str
    at: datetime
    tests: tuple[str, ...]


def _month_after(moment: datetime) -> datetime:
    return (moment.replace(day=1) + timedelta(days=32)).replace(day=1)


def moments(now: datetime) -> list[Moment]:
    """The dates the issue named, each relative to today except the leap day."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    next_month = _month_after(midnight)
    last_day = calendar.monthrange(next_month.year, next_month.month)[1]
    new_year_eve = now.replace(month=12, day=31, hour=23, minute=59, second=30, microsecond=0)
    if new_year_eve < now:
        new_year_eve = new_year_eve.replace(year=now.year + 1)
    return [
        Moment("first second of a month", next_month, (FLOW, INGEST_TIME)),
        Moment(
            "last minute of a month",
            next_month.replace(day=last_day, hour=23, minute=59),
            (FLOW, MAKE_RUN),
        ),
        Moment("29 February 2028", datetime(2028, 2, 29, 12, tzinfo=UTC), (FLOW,)),  # fixed date: leap day
        Moment("31 December 23:59:30", new_year_eve, (FLOW,)),
        Moment("two years ahead", now + timedelta(days=730), (FLOW, MAKE_RUN, INGEST_TIME, DEMO)),
    ]


SERVICES = ("usage-ingest", "entitlements", "rewards", "notifications")


@pytest.fixture
async def templates_env(migrated_templates: MigratedTemplates) -> dict[str, str]:
    """Every service's migrated template on the session's server, for the inner runs: each
    would otherwise run all migrations again (they hold no date; the services' clock is what
    the moments test)."""
    for service in SERVICES:
        await migrated_templates.template_for(service, ROOT / "services" / service / "migrations")
    return migrated_templates.as_env()


def faked_env(
    moment: datetime, infrastructure: Infrastructure, inherited: dict[str, str] | None = None
) -> dict[str, str]:
    """This process's environment with the clock offset to `moment` (libfaketime's
    relative form, so that every process started later shares the same offset) and the
    session's broker, database server and (`inherited`) migrated templates."""
    offset = round(moment.timestamp() - datetime.now(UTC).timestamp())
    return {
        **os.environ,
        **(inherited or {}),
        "LD_PRELOAD": " ".join([str(LIBFAKETIME[0]), os.environ.get("LD_PRELOAD", "")]).strip(),
        "FAKETIME": f"{offset:+d}",
        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap,
        "TANGIBLE_TEST_POSTGRES_URL": infrastructure.postgres_admin_url,
    }


def test_the_moments_sit_where_the_issue_put_them() -> None:
    now = datetime(2026, 12, 6, 3, 24, tzinfo=UTC)  # fixed date: a pure function of it
    at = {m.name: m.at for m in moments(now)}
    assert at["first second of a month"] == datetime(2027, 1, 1, tzinfo=UTC)  # fixed date: ditto
    assert at["last minute of a month"] == datetime(2027, 1, 31, 23, 59, tzinfo=UTC)  # fixed date: ditto
    assert at["31 December 23:59:30"] == datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)  # fixed date: ditto
    assert at["two years ahead"] - now == timedelta(days=730)


@pytest.mark.long(60)
@pytest.mark.parametrize("moment", moments(datetime.now(UTC)), ids=lambda m: m.name)
def test_the_date_sensitive_tests_pass_as_if_it_were(
    moment: Moment, infrastructure: Infrastructure, templates_env: dict[str, str]
) -> None:
    if not LIBFAKETIME:
        pytest.fail("libfaketime is missing: `make test` installs it (scripts/ensure-debian-packages.sh)")
    env = faked_env(moment.at, infrastructure, templates_env)
    seen = subprocess.run(
        [sys.executable, "-c", "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert abs(datetime.fromisoformat(seen.strip()) - moment.at) < timedelta(minutes=1), seen
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", *moment.tests],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"as if it were {moment.at.isoformat()}:\n{output}"
