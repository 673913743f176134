"""The checked-in AsyncAPI document parses without errors or warnings under the reference
AsyncAPI parser (@asyncapi/parser from npm, locked in tests/contracts/asyncapi), and it
has what an integrator of the event stream looks for: servers, and receive operations."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tangible_schemas.asyncapi import ASYNCAPI_PATH
from tangible_schemas.consumers import CONSUMER_GROUPS

CHECKER = Path(__file__).resolve().parent / "asyncapi"
ERROR, WARNING = 0, 1  # Spectral's severities; 2 and 3 are information and hints


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node 20+ and npm are needed for the AsyncAPI parser"
    if not (CHECKER / "node_modules" / "@asyncapi" / "parser").exists():  # `make test` did it already
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CHECKER, check=True, capture_output=True)
    result = subprocess.run(
        [node, "validate.mjs", str(ASYNCAPI_PATH)], cwd=CHECKER, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_the_document_parses_without_errors_or_warnings(parsed: dict[str, Any]) -> None:
    serious = [d for d in parsed["diagnostics"] if d["severity"] in (ERROR, WARNING)]
    assert parsed["parsed"] and not serious, serious


def test_the_parser_sees_servers_and_a_receive_operation_per_group_and_topic(parsed: dict[str, Any]) -> None:
    assert parsed["servers"] >= 1
    assert parsed["receive"] == sum(len(group.topics) for group in CONSUMER_GROUPS)
