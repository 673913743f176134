"""The outbox relay as a worker of the `relay` role."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_runtime.outbox import OutboxListener, OutboxRelay, PostgresOutboxStore
from tangible_runtime.service import ServiceRuntime, Worker


@dataclass
class RelayHandle:
    worker: Worker
    relay: OutboxRelay

    def wake(self) -> None:
        self.relay.wake()


def relay_worker(runtime: ServiceRuntime) -> RelayHandle:
    relay = OutboxRelay(
        store=PostgresOutboxStore(runtime.session_factory),
        producer=runtime.producer,
        clients=runtime.clients,
        metrics=runtime.metrics,
        batch_size=runtime.settings.outbox_batch_size,
        idle_seconds=runtime.settings.outbox_idle_seconds,
        listener=OutboxListener(runtime.engine),
        listening_poll_seconds=runtime.settings.outbox_listening_poll_seconds,
    )
    return RelayHandle(Worker("outbox-relay", relay.run), relay)
