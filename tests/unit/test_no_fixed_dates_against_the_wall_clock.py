"""A guard against calendar time bombs: code that talks to services on the wall clock
writes no absolute dates.

Such a date works until the calendar passes it: a usage event stamped 26 November is not
in December's period, a license ending on 1 January 2027 expires on that day. The whole-
system tests, the client and simulator integration tests, usage-ingest's tests (its
`ingest` fixture runs on the wall clock), the test-support code, the demo, the simulator,
the chaos run and the bench all meet services on the wall clock, so their dates must be
relative to now. A line that really needs a fixed date (a service on a `ManualClock`, or a
string that is no date at all) says why with a `# fixed date:` comment.

The other services' test suites drive their services with a `ManualClock` from their
conftest, which this guard checks, so fixed dates are safe there.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK_CODE = (
    "tests/integration",
    "libs/client/tests/integration",
    "libs/simulator/tests/integration",
    "libs/devstack/src",
    "libs/demo/src",
    "libs/simulator/src",
    "services/usage-ingest/tests/integration",
    "services/usage-ingest/tests/conftest.py",
    "chaos",
    "bench",
)
MANUAL_CLOCK_SUITES = ("entitlements", "rewards", "notifications")
# 2026-11-… anywhere on a line (strings, f-strings, comments), or datetime(2026, …) / date(2026, …)
ABSOLUTE_DATE = re.compile(r"\b20\d\d-[01]\d-|\b(?:datetime|date)\(\s*20\d\d\s*,")
JUSTIFIED = "# fixed date:"


def absolute_dates(root: Path, folders: tuple[str, ...]) -> list[str]:
    """`path:line: text` of every absolute date without a justification."""
    found = []
    for folder in folders:
        top = root / folder
        for path in [top] if top.is_file() else sorted(top.rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if ABSOLUTE_DATE.search(line) and JUSTIFIED not in line:
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_code_that_meets_wall_clock_services_writes_no_absolute_dates() -> None:
    assert absolute_dates(ROOT, WALL_CLOCK_CODE) == []


def test_the_suites_exempted_run_their_services_on_a_manual_clock() -> None:
    for service in MANUAL_CLOCK_SUITES:
        conftest = (ROOT / "services" / service / "tests" / "conftest.py").read_text()
        assert "ManualClock(" in conftest, f"{service}'s tests no longer build a ManualClock"


def test_the_guard_finds_what_the_december_bug_was_made_of(tmp_path: Path) -> None:
    """The scenario that broke `make test` on 1 December 2026, and its fixed form."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "scenario.py").write_text(
        'event = {"time": "2026-11-26T10:00:00Z"}\n'
        'term = {"term_end": "2027-01-01"}\n'
        "start = datetime(2026, 9, 7, tzinfo=UTC)\n"
        "fine = datetime.now(UTC) - timedelta(days=30)\n"
        'invalid = {"time": "2026-13-45T99:00:00Z"}  # fixed date: no such day, refused\n'
    )
    assert [line.split(":")[1] for line in absolute_dates(tmp_path, ("code",))] == ["1", "2", "3"]
