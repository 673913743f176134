"""Schemathesis from outside: every service started as `make run` starts it, fuzzed over HTTP.

`python -m tangible_devstack run` starts Kafka, PostgreSQL and the four services as their own
processes (on free ports, in a temporary data folder); schemathesis loads each service's
OpenAPI document from its URL and runs every phase (examples, coverage, fuzzing, stateful)
with every check (`--checks all`) and the development tokens `make run` issues (`ingest` for
usage-ingest, `admin` for the others), each service fuzzed in a process of its own, the four
at once. Bounded (a few examples per operation, a fixed seed; `TANGIBLE_HTTP_FUZZ_EXAMPLES`
and `TANGIBLE_HTTP_FUZZ_SEED` change them): any failure fails the test, with a line per
failure and a curl command to reproduce it.

`tests/integration/test_fuzzing.py` runs the in-process variant with more examples; this one
proves what a client sees from outside: the wire, the real processes, the real documents.
It is also `make test`'s coverage phase (every boundary and negative value of every
parameter): the in-process variant leaves that phase to this test unless `make fuzz` runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status
from schemathesis.engine import events as engine_events

from tangible_devstack.processes import free_port
from tangible_devstack.services import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.long(200)]

EXAMPLES = int(os.environ.get("TANGIBLE_HTTP_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("TANGIBLE_HTTP_FUZZ_SEED", "20261203"))
PHASES = ("examples", "coverage", "fuzzing", "stateful")

# Rules a JSON Schema cannot state, each refused with a 422 problem that names the rule: a
# schema-valid request may break them, so `positive_data_acceptance` also expects a 422 on
# these operations, and only there. Everything a schema can say is in the documents.
DOMAIN_RULES: dict[str, list[tuple[str, str, str]]] = {
    "usage-ingest": [
        # an event's time at most the tolerated skew ahead of the server's clock (and from
        # 1970 on, in any offset), its size in bytes once serialized: the clock, the wire
        ("POST", "/v1/events", "time against the clock, size in bytes"),
    ],
    "entitlements": [
        # `to` on or after `from`, at most ~10 years apart: comparing two values
        ("GET", "/v1/accounts/{account_id}/usage", "date range"),
        # the end of a term after its start: comparing two values; and an IANA time zone
        # name of the server's tz database
        ("POST", "/v1/licenses", "term order, time zone"),
        # a grant's expiry after its start (by default now): comparing two values, the clock
        ("POST", "/v1/accounts/{account_id}/grants", "grant window"),
        # a trial's days within the tenant's maximum, a setting (state) no document holds
        ("POST", "/v1/licenses/{license_id}/trials", "tenant's trial maximum"),
        # a plan or add-on names features of the tenant's catalog, which must exist
        ("POST", "/v1/plans", "catalog references"),
        ("POST", "/v1/addons", "catalog references"),
        ("PATCH", "/v1/plans/{key}/versions/{version}", "catalog references"),
        ("PATCH", "/v1/addons/{key}/versions/{version}", "catalog references"),
        # the body is a history export, checked against its own hash chain
        ("POST", "/v1/accounts/{account_id}/history/verify", "export integrity"),
    ],
    "rewards": [
        # an IANA time zone name of the server's tz database
        ("PUT", "/v1/accounts/{account_id}/settings", "time zone"),
        # spending needs the credit: the account's balance, state no document holds...
        ("POST", "/v1/accounts/{account_id}/redemptions", "balance"),
        # ...and so does a negative adjustment; a positive one expires in the future: the clock
        ("POST", "/v1/accounts/{account_id}/adjustments", "balance, expiry after now"),
        # a catalogue item's window ends after it starts (two values compared; a PATCH compares
        # with the stored item); a purchase needs the credit, the stock, the per-account limit
        ("POST", "/v1/catalog/items", "window order"),
        ("PATCH", "/v1/catalog/items/{key}", "window order against the stored item"),
        ("POST", "/v1/accounts/{account_id}/catalog/items/{key}/redeem", "balance, stock, limit, window"),
    ],
    "notifications": [
        # an IANA time zone name of the server's tz database
        ("PUT", "/v1/accounts/{account_id}/preferences", "time zone"),
        ("PUT", "/v1/accounts/{account_id}/users/{user_id}/preferences", "time zone"),
        # a template must render against the event type's example data
        ("POST", "/v1/templates/preview", "template renders"),
        ("PUT", "/v1/templates/{event_type}/{channel}", "template renders"),
    ],
}
# a cursor is one the service returned (an opaque key of the last item read), whatever the
# schema's string allows: every service's audit log is read with one
for _rules in DOMAIN_RULES.values():
    _rules.append(("GET", "/v1/audit", "cursor the service returned"))
DOMAIN_RULES["entitlements"].append(("GET", "/v1/book", "cursor the service returned"))
DOMAIN_RULES["rewards"].append(("GET", "/v1/book/credits-expiring", "cursor the service returned"))
# impact reports: a custom period runs forward and spans at most 366 days, from 1971 to 9998
# (two dates compared, a calendar); a template's sections are unique (`uniqueItems`, stated)
DOMAIN_RULES["notifications"] += [
    ("GET", "/v1/accounts/{account_id}/report", "period order and length"),
    ("POST", "/v1/accounts/{account_id}/report/share-links", "period order and length"),
]


@schemathesis.check
def problem_document(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every refusal is an RFC 9457 problem document."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), f"{response.status_code}: {content_type}"
        problem = response.json()
        assert problem.get("status") == response.status_code and problem.get("title"), problem
    return None


@dataclass(frozen=True)
class System:
    urls: dict[str, str]
    tokens: dict[str, str]


def _wait_for_line(log: Path, process: subprocess.Popen[bytes], marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while marker not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"`make run` not ready:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    """`make run` on its own ports and data folder; Ctrl-C (SIGINT) stops it afterwards."""
    data = Path(tempfile.mkdtemp(prefix="tangible-contracts-"))
    ports = {spec.name: free_port() for spec in SERVICES}
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")},
        "TANGIBLE_DATA_DIR": str(data),
        "TANGIBLE_KAFKA_PORT": str(free_port()),
        "TANGIBLE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "TANGIBLE_POSTGRES_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **{f"{spec.env_prefix}PORT": str(ports[spec.name]) for spec in SERVICES},
    }
    log = data / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tangible_devstack", "run"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_line(log, process, "Ctrl-C stops everything", timeout=120)
        tokens = json.loads((data / "dev-tokens.json").read_text())
        yield System({name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, tokens)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def _config(service: str, token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,  # reproducible: the same cases on every run
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": EXAMPLES, "database": "none", "no-shrink": True},
            "phases": {name: {"enabled": True} for name in PHASES},
            "checks": {"enabled": True},  # every check, as `--checks all`
            "request-timeout": 30,
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
                        }
                    },
                }
                for method, path, _rule in DOMAIN_RULES.get(service, [])
            ],
        }
    )


def fuzz(service: str, url: str, token: str) -> tuple[list[str], int]:
    """Every phase against the service at `url`: the failures, one line each, and the cases run."""
    # an event stream never ends: not a request/response operation (test_live_stream opens it)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=_config(service, token)).exclude(
        path_regex="/stream$"
    )
    failures: list[str] = []
    phases: set[str] = set()
    cases = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, engine_events.PhaseFinished):
            phases.add(event.phase.name.value)
        if isinstance(event, engine_events.ScenarioFinished | engine_events.FuzzScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        case = event.recorder.cases[case_id].value
                        failure = check.failure_info.failure
                        failures.append(
                            f"{service}: {check.name}: {case.method} {case.formatted_path}: {failure.title}: "
                            f"{failure.message[:300]}\n    {check.failure_info.code_sample[:600]}"
                        )
        elif isinstance(event, engine_events.NonFatalError | engine_events.FatalError):
            failures.append(f"{service}: error: {event}")
    missing = set(PHASES) - phases
    if missing:
        failures.append(f"{service}: phases that did not run: {sorted(missing)}")
    return failures, cases


def _fuzz_elsewhere(service: str, url: str, token: str) -> subprocess.Popen[str]:
    """`fuzz` in a process of its own: this module run as a script prints its result as JSON."""
    return subprocess.Popen(
        [sys.executable, __file__, service, url],
        env={**os.environ, "TANGIBLE_HTTP_FUZZ_TOKEN": token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(420)
def test_every_service_keeps_its_contract_from_outside(system: System) -> None:
    token = {name: system.tokens["ingest" if name == "usage-ingest" else "admin"] for name in system.urls}
    # every service in a process of its own, all at once: one after the other took the sum
    # of the four; threads in one process trip CPython 3.11's "AST constructor recursion
    # depth mismatch" (schemathesis compiles code per thread); processes share nothing
    running = {name: _fuzz_elsewhere(name, url, token[name]) for name, url in system.urls.items()}
    results: dict[str, tuple[list[str], int]] = {}
    try:
        for name, process in running.items():
            out, err = process.communicate(timeout=400)
            lines = out.strip().splitlines()
            if process.returncode != 0 or not lines:
                results[name] = ([f"{name}: fuzzing stopped ({process.returncode}):\n{err[-3000:]}"], 0)
                continue
            failures, cases = json.loads(lines[-1])
            results[name] = (failures, cases)
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)
    found = [line for failures, _ in results.values() for line in failures]
    assert not found, "\n".join(sorted(set(found)))
    for name, (_, cases) in results.items():
        assert cases >= 10, f"{name}: only {cases} cases ran"


if __name__ == "__main__":  # python test_contracts_over_http.py SERVICE URL, token in the environment
    print(json.dumps(fuzz(sys.argv[1], sys.argv[2], os.environ["TANGIBLE_HTTP_FUZZ_TOKEN"])))
