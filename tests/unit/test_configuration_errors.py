"""A misconfigured service says so at start, in one line per problem naming the variable
to fix, rather than with a driver's error at first use; a failed `migrate` says, in one
line, where it connected and why it failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tangible_ingest.config import Settings
from tangible_runtime.settings import configuration_errors


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    return configuration_errors(raised.value, Settings)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"USAGE_INGEST_DATABASE_URL": "mysql://app:secret@db/usage"},
            "USAGE_INGEST_DATABASE_URL: scheme 'mysql' is not supported",
        ),
        ({"USAGE_INGEST_DATABASE_URL": "not a url"}, "USAGE_INGEST_DATABASE_URL: not a URL"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "kafka:abc"}, "KAFKA_BOOTSTRAP_SERVERS: 'kafka:abc' is not host:port"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "kafka-0:9092, kafka-1"}, "KAFKA_BOOTSTRAP_SERVERS: 'kafka-1' is not"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "KAFKA_SASL_MECHANISM is required with KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"},
            "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required",
        ),
        (
            {"KAFKA_SASL_MECHANISM": "PLAIN"},
            "KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        ),
        ({"USAGE_INGEST_PORT": "eighty"}, "USAGE_INGEST_PORT: Input should be a valid integer"),
    ],
)
def test_each_misconfiguration_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    problems = _problems(monkeypatch, **env)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert "\n" not in problems[0]
    assert "secret" not in problems[0]


def test_valid_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGE_INGEST_DATABASE_URL", "postgres://app:secret@db:5432/usage")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092,[::1]:9093,10.0.0.7:9094")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "tangible")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "secret")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://app:secret@db:5432/usage"


def _run(role: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("USAGE_INGEST_", "KAFKA_"))}
    return subprocess.run(
        [sys.executable, "-m", "tangible_ingest", role],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_process_exits_with_the_line_and_no_traceback() -> None:
    result = _run("api", USAGE_INGEST_DATABASE_URL="mysql://app:secret@db/usage")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "tangible_ingest: configuration error: USAGE_INGEST_DATABASE_URL: scheme 'mysql' is not supported: "
        "Tangible runs on PostgreSQL (postgresql://user:password@host:5432/database) "
        "(got 'mysql://app:***@db/usage')"
    ]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again once the block ends: nothing listens


def test_migrate_against_an_unreachable_database_is_one_line_with_the_cause() -> None:
    port = _closed_port()
    result = _run("migrate", USAGE_INGEST_DATABASE_URL=f"postgresql://app:secret@127.0.0.1:{port}/usage")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tangible_ingest: migrate failed against app@127.0.0.1:{port}/usage: ")
    assert "ConnectionRefusedError" in lines[0] and "secret" not in lines[0]
