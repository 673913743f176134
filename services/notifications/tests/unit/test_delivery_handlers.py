"""The delivery worker's handler on in-memory fakes and scripted senders: each attempt is
recorded once, failures are retried on the policy's schedule until the window is spent, an
endpoint that keeps failing (or answers 410) is disabled, and the sender is picked by
channel from those given."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.tests.unit.fakes import FakeSender, FakeUnitOfWork, Store
from services.notifications.tests.unit.scenario import add_rule, add_webhook, crossed, notify
from tangible_notifications.domain.model import Channel
from tangible_notifications.domain.retry import Outcome, RetryPolicy
from tangible_notifications.service_layer import handlers
from tangible_notifications.service_layer.handlers.delivery import Dispatch
from tangible_runtime.domain import ManualClock
from tangible_schemas.notifications import EndpointDisabled, NotificationDelivered, NotificationFailed

POLICY = RetryPolicy(
    window=timedelta(hours=1), base=timedelta(seconds=10), cap=timedelta(minutes=5), jitter=0
)


async def webhook_notified(store: Store, clock: ManualClock, *event_ids: str) -> str:
    """A webhook channel, a rule sending to it, and one event per id: their deliveries are due."""
    await add_rule(store, Channel.WEBHOOK)
    endpoint_id = await add_webhook(store, clock)
    await notify(store, clock, *(crossed(i) for i in event_ids or ("e1",)))
    return endpoint_id


class Counted:
    """The DeliveryMetrics port, recording what the worker reports."""

    def __init__(self) -> None:
        self.disabled: list[str] = []

    def endpoint_disabled(self, reason: str) -> None:
        self.disabled.append(reason)


async def deliver(
    store: Store,
    clock: ManualClock,
    webhook: FakeSender,
    disable_after: timedelta = timedelta(days=5),
    metrics: Counted | None = None,
) -> int:
    dispatch = Dispatch(
        {"webhook": webhook}, POLICY, disable_after, lease=timedelta(minutes=2), metrics=metrics or Counted()
    )
    return await handlers.deliver_due(
        new_uow=lambda: FakeUnitOfWork(store), dispatch=dispatch, clock=clock, limit=10
    )


async def test_a_delivered_webhook_is_recorded_with_its_attempt_and_announced(
    store: Store, clock: ManualClock
) -> None:
    endpoint_id = await webhook_notified(store, clock)
    sender = FakeSender(Outcome.SUCCEEDED, status_code=204)

    assert await deliver(store, clock, sender) == 1
    assert await deliver(store, clock, sender) == 0  # nothing due any more

    [job] = sender.jobs
    assert job.endpoint is not None and job.endpoint.id == endpoint_id
    assert job.secrets == ("sealed:whsec_generated1",)  # still sealed: the sender opens them
    [delivery] = store.deliveries.values()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("succeeded", 1, clock.now())
    assert [(a.number, a.outcome, a.status_code) for a in store.attempts.values()] == [(1, "succeeded", 204)]
    assert [n.status for n in store.notifications.values()] == ["delivered"]
    assert [type(e) for e in store.published] == [NotificationDelivered]


async def test_a_failed_attempt_is_retried_on_the_policy_schedule_until_it_succeeds(
    store: Store, clock: ManualClock
) -> None:
    await webhook_notified(store, clock)
    sender = FakeSender(Outcome.FAILED, Outcome.FAILED, Outcome.SUCCEEDED)

    assert await deliver(store, clock, sender) == 1
    [delivery] = store.deliveries.values()
    assert delivery.status == "pending" and delivery.next_attempt_at == clock.now() + timedelta(seconds=10)
    assert await deliver(store, clock, sender) == 0  # not before the backoff
    clock.advance(timedelta(seconds=10))
    assert await deliver(store, clock, sender) == 1
    [delivery] = store.deliveries.values()
    assert delivery.next_attempt_at == clock.now() + timedelta(seconds=40)  # base · 4^(n-1)
    clock.advance(timedelta(seconds=40))
    assert await deliver(store, clock, sender) == 1

    [delivery] = store.deliveries.values()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [a.outcome for a in store.attempts.values()] == ["failed", "failed", "succeeded"]
    assert [type(e) for e in store.published] == [NotificationDelivered]


async def test_a_delivery_fails_for_good_once_the_window_is_spent_or_the_receiver_rejects_it(
    store: Store, clock: ManualClock
) -> None:
    await webhook_notified(store, clock, "e1")
    failing = FakeSender(Outcome.FAILED)
    assert await deliver(store, clock, failing) == 1
    clock.advance(POLICY.window)
    assert await deliver(store, clock, failing) == 1
    assert [(d.status, d.attempts) for d in store.deliveries.values()] == [("failed", 2)]
    assert [type(e) for e in store.published] == [NotificationFailed]
    assert [n.status for n in store.notifications.values()] == ["failed"]

    rejected = Store()
    await webhook_notified(rejected, clock, "e2")
    assert await deliver(rejected, clock, FakeSender(Outcome.REJECTED)) == 1
    assert [(d.status, d.attempts) for d in rejected.deliveries.values()] == [("failed", 1)]


async def test_a_success_clears_an_endpoints_failing_streak(store: Store, clock: ManualClock) -> None:
    endpoint_id = await webhook_notified(store, clock)
    sender = FakeSender(Outcome.FAILED, Outcome.SUCCEEDED)
    assert await deliver(store, clock, sender) == 1
    assert store.channels[endpoint_id].failing_since == clock.now()
    clock.advance(timedelta(seconds=10))
    assert await deliver(store, clock, sender) == 1
    assert store.channels[endpoint_id].failing_since is None


async def test_an_endpoint_failing_for_longer_than_allowed_is_disabled_and_its_deliveries_stopped(
    store: Store, clock: ManualClock
) -> None:
    endpoint_id = await webhook_notified(store, clock, "e1")
    sender, day, metrics = FakeSender(Outcome.FAILED), timedelta(days=1), Counted()
    assert await deliver(store, clock, sender, disable_after=day, metrics=metrics) == 1
    assert store.channels[endpoint_id].enabled  # failing, but not for long yet
    assert metrics.disabled == []

    clock.advance(day)
    await notify(store, clock, crossed("e2"))
    assert await deliver(store, clock, sender, disable_after=day, metrics=metrics) == 2
    assert metrics.disabled == ["failing"]  # once, though two of its deliveries failed

    endpoint = store.channels[endpoint_id]
    assert not endpoint.enabled and endpoint.disabled_reason == "failing for 1 days"
    assert [d.status for d in store.deliveries.values()] == ["failed", "failed"]  # e2's retry is stopped
    disabled = [e for e in store.published if isinstance(e, EndpointDisabled)]
    assert [(e.endpoint_id, e.reason) for e in disabled] == [(endpoint_id, "failing for 1 days")]
    assert sorted(e.source_event_id for e in store.published if isinstance(e, NotificationFailed)) == [
        "e1",
        "e2",
    ]


async def test_a_receiver_answering_410_disables_its_endpoint_at_once(
    store: Store, clock: ManualClock
) -> None:
    endpoint_id = await webhook_notified(store, clock)
    metrics = Counted()
    assert await deliver(store, clock, FakeSender(Outcome.GONE, status_code=410), metrics=metrics) == 1
    assert metrics.disabled == ["gone"]
    endpoint = store.channels[endpoint_id]
    assert not endpoint.enabled and endpoint.disabled_reason == "gone: the receiver answered 410"


async def test_failures_of_a_sender_that_does_not_watch_its_endpoint_leave_the_endpoint_alone(
    store: Store, clock: ManualClock
) -> None:
    endpoint_id = await webhook_notified(store, clock)
    assert await deliver(store, clock, FakeSender(Outcome.GONE, watches_endpoint=False)) == 1
    assert store.channels[endpoint_id].enabled and store.channels[endpoint_id].failing_since is None


async def test_a_channel_without_a_sender_is_rejected_not_retried(store: Store, clock: ManualClock) -> None:
    await webhook_notified(store, clock)
    dispatch = Dispatch({}, POLICY, timedelta(days=5), lease=timedelta(minutes=2))
    assert (
        await handlers.deliver_due(
            new_uow=lambda: FakeUnitOfWork(store), dispatch=dispatch, clock=clock, limit=10
        )
        == 1
    )
    [delivery] = store.deliveries.values()
    assert (delivery.status, delivery.last_error) == ("failed", "unknown channel webhook")
