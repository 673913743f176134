"""Real Kafka and PostgreSQL for tests: from the environment, Docker, or started locally.

Order: `KAFKA_BOOTSTRAP_SERVERS` / `TANGIBLE_TEST_POSTGRES_URL` if set; otherwise
testcontainers when a Docker engine answers; otherwise the local broker (Maven) and the
embedded PostgreSQL, which is the path CI takes on machines without Docker.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tangible_devstack.kafka import KafkaBroker
from tangible_devstack.postgres import EmbeddedPostgres
from tangible_devstack.processes import free_port


@dataclass
class Infrastructure:
    kafka_bootstrap: str
    postgres_admin_url: str
    broker: KafkaBroker | None = None  # set when the tests own the broker (fault tests)
    postgres: EmbeddedPostgres | None = None
    description: str = ""


def docker_available() -> bool:
    if os.environ.get("TANGIBLE_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


def start_infrastructure(stack: ExitStack, workdir: Path) -> Infrastructure:
    """Start what the environment does not provide; `stack` stops it again."""
    use_docker: bool | None = None
    parts: list[str] = []
    broker: KafkaBroker | None = None
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if kafka:
        parts.append(f"Kafka from KAFKA_BOOTSTRAP_SERVERS ({kafka})")
    else:
        use_docker = docker_available()
        if use_docker:
            kafka = _kafka_container(stack)
            parts.append("Kafka in a testcontainer")
        else:
            broker = KafkaBroker(workdir / "kafka", port=free_port(), controller_port=free_port())
            broker.start(wait=False)
            stack.callback(broker.stop)
            kafka = broker.bootstrap_servers
            parts.append(f"Apache Kafka {broker.version} (local JVM, pid {broker.pid})")

    postgres: EmbeddedPostgres | None = None
    admin_url = os.environ.get("TANGIBLE_TEST_POSTGRES_URL")
    if admin_url:
        parts.append("PostgreSQL from TANGIBLE_TEST_POSTGRES_URL")
    else:
        if use_docker is None:
            use_docker = docker_available()
        if use_docker:
            admin_url = _postgres_container(stack)
            parts.append("PostgreSQL in a testcontainer")
        else:
            postgres = EmbeddedPostgres(workdir / "postgres", port=free_port(), fast=True)
            postgres.start()
            stack.callback(postgres.stop)
            admin_url = postgres.admin_url
            parts.append("embedded PostgreSQL 18")
    if broker is not None:
        broker.wait_ready()
    return Infrastructure(kafka, admin_url, broker, postgres, "; ".join(parts))


def _kafka_container(stack: ExitStack) -> str:
    from testcontainers.kafka import KafkaContainer

    # accept producer timestamps ahead of the broker's clock, as the local broker does
    # (the any-date tests run the Python side years ahead)
    container: Any = (
        KafkaContainer("apache/kafka:4.1.0")
        .with_kraft()
        .with_env("KAFKA_LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS", str(2**63 - 1))
    )
    stack.enter_context(container)
    return str(container.get_bootstrap_server())


def _postgres_container(stack: ExitStack) -> str:
    from testcontainers.postgres import PostgresContainer

    container: Any = PostgresContainer("postgres:18", driver="asyncpg")
    stack.enter_context(container)
    return str(container.get_connection_url())
