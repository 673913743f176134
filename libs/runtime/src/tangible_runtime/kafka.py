"""Kafka clients built from settings: one place for security, naming and producer tuning."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from tangible_runtime.errors import is_transient
from tangible_runtime.retries import Backoff, retrying
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import TOPICS, Topic

# a broker that is restarting is polled about once a second (a process started meanwhile waits)
KAFKA_WAIT_BACKOFF = Backoff(first=1.0, maximum=1.0, jitter=0.25)
REACHABLE_POLL_BACKOFF = Backoff(first=0.5, maximum=0.5, jitter=0.1)


class RecordConsumer(Protocol):
    """What the runtime uses of a Kafka consumer: aiokafka's, or an in-memory fake in tests."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]: ...

    def assignment(self) -> set[TopicPartition]: ...

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None: ...

    def highwater(self, partition: TopicPartition) -> int | None: ...


class RecordProducer(Protocol):
    """What the runtime uses of a Kafka producer. `send` returns once the record is queued,
    with a future that resolves when the broker acknowledged it."""

    async def send(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Awaitable[Any]: ...

    async def send_and_wait(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Any: ...


class ConsumerClients(Protocol):
    """What a consumer runner needs of `KafkaClients` (topic naming, consumers, topics)."""

    def topic(self, name: str) -> str: ...

    def logical_topic(self, physical: str) -> str: ...

    def consumer(self, *topics: str, group: str | None, **overrides: Any) -> RecordConsumer: ...

    async def ensure_topics(self, topics: Iterable[Topic] = TOPICS) -> None: ...


class KafkaClients:
    """Builds producers, consumers and admin clients that share one configuration."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings

    def topic(self, name: str) -> str:
        """The physical topic name (a prefix isolates test runs or shared clusters)."""
        return f"{self.settings.topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.settings.topic_prefix}{name}"

    def logical_topic(self, physical: str) -> str:
        prefix = self.settings.topic_prefix
        return physical[len(prefix) :] if prefix and physical.startswith(prefix) else physical

    def common_config(self) -> dict[str, Any]:
        s = self.settings
        config: dict[str, Any] = {
            "bootstrap_servers": s.bootstrap_servers,
            "security_protocol": s.security_protocol,
        }
        if s.security_protocol in ("SSL", "SASL_SSL"):
            config["ssl_context"] = ssl.create_default_context(cafile=s.ssl_cafile)
        if s.sasl_mechanism:
            config["sasl_mechanism"] = s.sasl_mechanism
            config["sasl_plain_username"] = s.sasl_username
            config["sasl_plain_password"] = s.sasl_password.get_secret_value() if s.sasl_password else None
        return config

    def producer(self, **overrides: Any) -> AIOKafkaProducer:
        s = self.settings
        config: dict[str, Any] = {
            **self.common_config(),
            # Durability first: a 202 or an outbox delete happens only after every in-sync
            # replica has the record, and retries can't duplicate or reorder it.
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": s.linger_ms,
            "compression_type": None if s.compression == "none" else s.compression,
            "max_batch_size": s.max_batch_bytes,
            "max_request_size": 4 * s.max_batch_bytes,
            "request_timeout_ms": int(s.publish_timeout_seconds * 1000),
        }
        config.update(overrides)
        return AIOKafkaProducer(**config)

    def consumer(self, *topics: str, group: str | None, **overrides: Any) -> AIOKafkaConsumer:
        config: dict[str, Any] = {
            **self.common_config(),
            "group_id": self.group(group) if group else None,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
            "max_poll_interval_ms": 600_000,
        }
        config.update(overrides)
        return AIOKafkaConsumer(*(self.topic(t) for t in topics), **config)

    def admin(self) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(**self.common_config())

    async def partitions(self, topics: Iterable[str]) -> dict[str, list[int]]:
        """Each (logical) topic's partition ids, asked of the broker. Not a consumer's
        `partitions_for_topic`: that reads the consumer's metadata cache, which holds no
        topics until it subscribes or is assigned some (`consumer.topics()` fetches into a
        copy of its own), so it answers None for a topic of six partitions."""
        wanted = {self.topic(t): t for t in topics}
        admin = self.admin()
        await admin.start()
        try:
            described = await admin.describe_topics(list(wanted))
        finally:
            await admin.close()
        found = {
            wanted[d["topic"]]: sorted(int(p["partition"]) for p in d["partitions"])
            for d in described
            if d["topic"] in wanted and d["partitions"]
        }
        missing = sorted(set(wanted.values()) - set(found))
        if missing:
            raise KafkaError(f"no partitions for topics {missing}")
        return found

    async def ensure_topics(
        self, topics: Iterable[Topic] = TOPICS, *, replication_factor: int = 1, wait_seconds: float = 300.0
    ) -> None:
        """Create missing topics with their explicit partition counts; waits out a broker
        that is briefly unreachable (a process started during a broker restart)."""
        topics = list(topics)
        await retrying(
            lambda: self._ensure_topics(topics, replication_factor),
            backoff=KAFKA_WAIT_BACKOFF,
            log_event="kafka_unreachable_for_topics",
            retry_if=is_transient,
            within_seconds=wait_seconds,
        )

    async def _ensure_topics(self, topics: list[Topic], replication_factor: int) -> None:
        admin = self.admin()
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [
                NewTopic(
                    name=self.topic(t.name),
                    num_partitions=t.partitions,
                    replication_factor=replication_factor,
                    topic_configs={"cleanup.policy": "compact"} if t.compacted else {},
                )
                for t in topics
                if self.topic(t.name) not in existing
            ]
            if wanted:
                try:
                    await admin.create_topics(wanted)
                except TopicAlreadyExistsError:
                    pass  # another replica won the race; the topic is what we wanted
        finally:
            await admin.close()

    async def wait_until_reachable(self, timeout: float = 60.0) -> None:
        """Until the broker lists its topics; any failure is retried within `timeout`."""

        async def list_topics() -> None:
            admin = self.admin()
            try:
                await admin.start()
                await admin.list_topics()
            finally:
                await admin.close()

        await retrying(
            list_topics,
            backoff=REACHABLE_POLL_BACKOFF,
            log_event="kafka_not_reachable_yet",
            within_seconds=timeout,
        )
