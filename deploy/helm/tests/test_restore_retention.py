"""The retention a database restore needs (docs/runbook.md, "Restore a service's database"): a
restored service replays Kafka from its backup's position, so every topic the topics Job (or
Strimzi) creates, bar the compacted one, keeps its records for at least the backup interval
plus the restore window; and the chart refuses to render a shorter retention."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

pytestmark = pytest.mark.timeout(1500)  # the first test may build helm (about 1.5 min cold)

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "tangible"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
RUNBOOK = REPO / "docs" / "runbook.md"
HOUR_MS = 3_600_000
# what docs/runbook.md promises: a backup every 24 hours, a restore within 72 hours
BACKUP_INTERVAL_HOURS, RESTORE_WINDOW_HOURS = 24, 72


def _template(helm_binary: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{f"HELM_{k}_HOME": str(tmp_path / k.lower()) for k in ("CACHE", "CONFIG", "DATA")}}
    return subprocess.run(
        [str(helm_binary), "template", "tangible", str(CHART), "--namespace", "tangible", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _manifests(helm_binary: Path, tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    result = _template(helm_binary, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    return [m for m in yaml.safe_load_all(result.stdout) if m]


def _job_topics(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    (job,) = [
        m
        for m in manifests
        if m["kind"] == "Job" and m["metadata"]["labels"].get("tangible/role") == "topics"
    ]
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    return {t["name"]: t for t in json.loads(env["TANGIBLE_TOPICS"])}


def _least_retention_ms() -> int:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    restore = values["kafka"]["restore"]
    assert (restore["backupIntervalHours"], restore["restoreWindowHours"]) == (
        BACKUP_INTERVAL_HOURS,
        RESTORE_WINDOW_HOURS,
    ), "values.yaml and docs/runbook.md disagree"
    return (BACKUP_INTERVAL_HOURS + RESTORE_WINDOW_HOURS) * HOUR_MS


def test_the_runbook_documents_the_interval_and_window_the_chart_checks() -> None:
    runbook = RUNBOOK.read_text()
    assert "## Restore a service's database" in runbook
    assert f"every {BACKUP_INTERVAL_HOURS} hours" in runbook
    assert f"within {RESTORE_WINDOW_HOURS} hours" in runbook
    assert "kafka.restore.backupIntervalHours" in runbook


def test_topics_job_keeps_every_event_topic_past_a_backup_and_its_restore(
    helm_binary: Path, tmp_path: Path
) -> None:
    least = _least_retention_ms()
    topics = _job_topics(_manifests(helm_binary, tmp_path, "--values", str(PRODUCTION_VALUES)))
    events = {n: t for n, t in topics.items() if t["config"].get("cleanup.policy") != "compact"}
    assert "prod.tangible.usage.v1" in events and len(events) == len(topics) - 1
    for name, topic in events.items():
        assert int(topic["config"]["retention.ms"]) >= least, (name, topic["config"])
    # the entitlements and rewards usage consumers restore from the usage topic: a week
    assert int(events["prod.tangible.usage.v1"]["config"]["retention.ms"]) == 7 * 24 * HOUR_MS


def test_strimzi_topics_keep_the_same_retention(helm_binary: Path, tmp_path: Path) -> None:
    least = _least_retention_ms()
    manifests = _manifests(
        helm_binary,
        tmp_path,
        "--values",
        str(PRODUCTION_VALUES),
        "--set",
        "kafka.provisioning.strimzi.enabled=true",
    )
    kafka_topics = [m for m in manifests if m["kind"] == "KafkaTopic"]
    assert kafka_topics
    for topic in kafka_topics:
        config = topic["spec"].get("config") or {}
        if config.get("cleanup.policy") != "compact":
            assert int(config["retention.ms"]) >= least, (topic["spec"]["topicName"], config)


def _usage_topic_config(tmp_path: Path, config: dict[str, Any] | None) -> Path:
    """A values file whose usage topic has `config`, or none (the other topics as values.yaml
    has them)."""
    topics = yaml.safe_load((CHART / "values.yaml").read_text())["kafka"]["topics"]
    topics[0] = {k: v for k, v in topics[0].items() if k != "config"}
    if config is not None:
        topics[0]["config"] = config
    assert topics[0]["name"] == "tangible.usage.v1"
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump({"kafka": {"topics": topics, "provisioning": {"job": {"enabled": True}}}}))
    return path


@pytest.mark.parametrize(
    ("config", "sets"),
    [
        # a retention shorter than a day's backup interval plus the restore window
        ({"retention.ms": "86400000"}, ()),
        # none at all: the broker's default, which nothing here guarantees
        ({}, ()),
        (None, ()),
        # a longer restore window than the week the topics keep
        ({"retention.ms": "604800000"}, ("kafka.restore.restoreWindowHours=200",)),
    ],
)
def test_a_retention_too_short_for_a_restore_is_refused(
    helm_binary: Path, tmp_path: Path, config: dict[str, Any] | None, sets: tuple[str, ...]
) -> None:
    args = ["--values", str(_usage_topic_config(tmp_path, config)), *(a for s in sets for a in ("--set", s))]
    result = _template(helm_binary, tmp_path, *args)
    assert result.returncode != 0
    assert "kafka.topics tangible.usage.v1: retention.ms must be at least" in result.stderr, result.stderr


def test_unlimited_retention_is_accepted(helm_binary: Path, tmp_path: Path) -> None:
    values = _usage_topic_config(tmp_path, {"retention.ms": "-1"})
    manifests = _manifests(helm_binary, tmp_path, "--values", str(values))
    assert _job_topics(manifests)["tangible.usage.v1"]["config"]["retention.ms"] == "-1"
