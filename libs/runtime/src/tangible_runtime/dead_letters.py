"""Dead letters one can act on: read a consumer's dead-letter topic, and replay a selection
back to the topic the records came from.

The dead-letter topic is shared by every tenant; a reader only ever sees the records whose
key (and CloudEvents `tenantid`) name its own tenant. Replay is safe to repeat: the record
goes back with its original `ce_id`, and the consumer's inbox turns a second delivery of an
already applied event into a no-op, so each record is applied at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tangible_runtime.kafka import KafkaClients, RecordProducer
from tangible_runtime.logs import get_logger
from tangible_schemas import dead_letter_topic
from tangible_schemas.binding import header_map, parse_record_key
from tangible_schemas.registry import topic_for

log = get_logger(__name__)

# headers the dead-lettering adds; stripped again when a record is replayed
DLQ_HEADERS = ("dlq_consumer", "dlq_reason", "dlq_detail", "dlq_topic")
_FETCH_TIMEOUT_MS = 1_000
_IDLE_FETCHES = 5


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered record; `id` is `<partition>-<offset>` in the dead-letter topic."""

    id: str
    consumer: str
    dead_lettered_at: datetime
    reason: str
    detail: str
    source_topic: str | None
    event_type: str | None
    event_id: str | None
    tenant_id: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters: every given criterion must hold (none given: all of them). The
    time range is on `dead_lettered_at`, `since` included and `until` excluded."""

    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: frozenset[str] | None = None

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.reason is None or letter.reason == self.reason)
            and (self.since is None or letter.dead_lettered_at >= self.since)
            and (self.until is None or letter.dead_lettered_at < self.until)
            and (self.ids is None or letter.id in self.ids)
        )


def _letter(
    consumer: str,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes,
    value: bytes,
    headers: Sequence[tuple[str, bytes]],
) -> DeadLetter | None:
    attrs = header_map(headers)
    tenant = attrs.get("ce_tenantid")
    if tenant is None:
        try:
            tenant, _subject = parse_record_key(key)
        except ValueError:
            return None  # no tenant can be named: no tenant's admin may read or replay it
    return DeadLetter(
        id=f"{partition}-{offset}",
        consumer=consumer,
        dead_lettered_at=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
        reason=attrs.get("dlq_reason", "unknown"),
        detail=attrs.get("dlq_detail", ""),
        source_topic=_source_topic(attrs.get("dlq_topic"), attrs.get("ce_type")),
        event_type=attrs.get("ce_type"),
        event_id=attrs.get("ce_id"),
        tenant_id=tenant,
        key=key,
        value=value,
        headers=list(headers),
    )


def _first_of_each_event(letters: list[DeadLetter]) -> list[DeadLetter]:
    """A refused record is refused again on redelivery (its inbox claim is released so that
    a replay applies it): the same event can be dead-lettered twice; list it once."""
    seen: set[str] = set()
    kept: list[DeadLetter] = []
    for letter in letters:
        if letter.event_id is not None:
            if letter.event_id in seen:
                continue
            seen.add(letter.event_id)
        kept.append(letter)
    return kept


async def read_dead_letters(
    clients: KafkaClients, *, consumer: str, tenant_id: str, selection: Selection = Selection()
) -> list[DeadLetter]:
    """The tenant's dead letters of `consumer` matching `selection`, oldest first (read from
    the topic's start to its end as of now, without a consumer group)."""
    logical = dead_letter_topic(consumer).name
    try:
        partitions = (await clients.partitions([logical]))[logical]
    except KafkaError:
        return []  # the topic does not exist yet: nothing was ever dead-lettered
    topic = clients.topic(logical)
    assigned = [TopicPartition(topic, p) for p in partitions]
    reader: AIOKafkaConsumer = clients.consumer(group=None)
    await reader.start()
    try:
        reader.assign(assigned)
        await reader.seek_to_beginning(*assigned)
        ends = await reader.end_offsets(assigned)
        pending = {tp for tp in assigned if ends[tp] > 0}
        found: list[DeadLetter] = []
        idle = 0
        while pending and idle < _IDLE_FETCHES:  # a bound: never hang a request on the broker
            batches = await reader.getmany(*pending, timeout_ms=_FETCH_TIMEOUT_MS)
            idle = 0 if batches else idle + 1
            for tp, records in batches.items():
                for record in records:
                    letter = _letter(
                        consumer,
                        tp.partition,
                        record.offset,
                        record.timestamp,
                        record.key or b"",
                        record.value or b"",
                        list(record.headers),
                    )
                    if letter is not None and letter.tenant_id == tenant_id and selection.matches(letter):
                        found.append(letter)
            for tp in list(pending):
                if await reader.position(tp) >= ends[tp]:
                    pending.discard(tp)
        found.sort(key=lambda letter: (letter.dead_lettered_at, letter.id))
        return _first_of_each_event(found)
    finally:
        await reader.stop()


def _source_topic(named: str | None, event_type: str | None) -> str | None:
    """The (logical) topic the record was consumed from: named by the dead-lettering, or
    else chosen from its event type as producers choose it."""
    if named:
        return named
    if event_type is None:
        return None
    try:
        return topic_for(event_type).name
    except KeyError:
        return None


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    replayed: list[str]
    skipped: list[str]  # no source topic can be named (undecodable records)


async def replay_dead_letters(
    clients: KafkaClients,
    producer: RecordProducer,
    *,
    consumer: str,
    tenant_id: str,
    selection: Selection,
    actor: str,
) -> ReplayOutcome:
    """Re-publish the selected dead letters to their source topics, with their original
    key, value and CloudEvents headers (the same `ce_id`: the inbox applies each at most
    once). The one place a replay happens, so that it can be audited."""
    letters = await read_dead_letters(clients, consumer=consumer, tenant_id=tenant_id, selection=selection)
    replayed: list[str] = []
    skipped: list[str] = []
    for letter in letters:
        target = letter.source_topic
        if target is None:
            skipped.append(letter.id)
            continue
        headers = [(name, value) for name, value in letter.headers if name not in DLQ_HEADERS]
        headers.append(("dlq_replayed_from", f"{consumer}/{letter.id}".encode()))
        await producer.send_and_wait(
            clients.topic(target), value=letter.value, key=letter.key, headers=headers
        )
        replayed.append(letter.id)
        log.info(
            "dead_letter_replayed",
            consumer=consumer,
            id=letter.id,
            reason=letter.reason,
            topic=target,
            actor=actor,
        )
    return ReplayOutcome(replayed=replayed, skipped=skipped)
