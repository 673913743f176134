"""The topics hook Job's script (files/create_topics.py): its planning, and a run on real Kafka."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tangible_devstack.infrastructure import Infrastructure

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "tangible"
SCRIPT = CHART / "files" / "create_topics.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("create_topics", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_parse_topics_reads_the_chart_format(script: Any) -> None:
    raw = (
        '[{"name": "p.a", "partitions": 3, "config": {"retention.ms": 1000}},'
        ' {"name": "p.b", "partitions": 1}]'
    )
    assert script.parse_topics(raw) == [
        script.TopicSpec("p.a", 3, {"retention.ms": "1000"}),
        script.TopicSpec("p.b", 1, {}),
    ]


def test_plan_creates_only_missing_topics_and_never_repartitions(script: Any) -> None:
    wanted = [script.TopicSpec("a", 12), script.TopicSpec("b", 6), script.TopicSpec("c", 1)]
    missing, warnings = script.plan(wanted, {"a": 12, "b": 3})
    assert [t.name for t in missing] == ["c"]
    assert warnings == ["topic b has 3 partitions, values say 6: left unchanged"]


def topics_job(helm_binary: Path, prefix: str) -> dict[str, Any]:
    """The container of the rendered topics Job, for a cluster with one broker."""
    result = subprocess.run(
        [
            str(helm_binary), "template", "tangible", str(CHART),
            "--show-only", "templates/topics-job.yaml",
            "--set", "kafka.provisioning.job.enabled=true",
            "--set", f"kafka.topicPrefix={prefix}",
            "--set", "kafka.replicationFactor=1",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    job = yaml.safe_load(result.stdout)
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.integration
async def test_topics_job_provisions_a_real_cluster_idempotently(
    helm_binary: Path, infrastructure: Infrastructure
) -> None:
    prefix = f"h{uuid.uuid4().hex[:10]}."
    container = topics_job(helm_binary, prefix)
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env["KAFKA_BOOTSTRAP_SERVERS"] = infrastructure.kafka_bootstrap
    command = [sys.executable, *container["command"][1:]]  # the Job's `python -c <script>`

    for expected in ("created", "all 10 topics exist"):
        process = await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
        assert process.returncode == 0, stderr.decode()
        assert expected in stdout.decode()

    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(
            [f"{prefix}tangible.usage.v1", f"{prefix}tangible.dlq.rewards-usage"]
        )
        partitions = {d["topic"]: len(d["partitions"]) for d in described}
        assert partitions == {f"{prefix}tangible.usage.v1": 12, f"{prefix}tangible.dlq.rewards-usage": 1}
        (response,) = await admin.describe_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, f"{prefix}tangible.credentials.v1", {"cleanup.policy": None}
                )
            ]
        )
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        assert configs["cleanup.policy"] == "compact"
        # what a database restore replays from (docs/runbook.md): a week, on the broker
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, f"{prefix}tangible.usage.v1", {"retention.ms": None})]
        )
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        assert configs["retention.ms"] == "604800000"
    finally:
        await admin.close()
