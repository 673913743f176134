"""A delivery round must fit its lease and a SIGTERM's grace: settings that would let an
acknowledged webhook be sent again (a lease lapsing before the round is recorded, a stop
cancelling it between the send and the record) are refused at startup, by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tangible_notifications.config import Settings


def test_the_defaults_leave_room_for_a_send_and_its_record() -> None:
    settings = Settings()
    longest = max(settings.webhook_timeout_seconds, settings.smtp_timeout_seconds)
    assert settings.shutdown_grace_seconds >= longest + 5
    assert settings.delivery_lease_seconds >= 2 * (longest + 5)


def test_a_lease_shorter_than_a_send_and_its_record_is_refused() -> None:
    Settings(webhook_timeout_seconds=10, smtp_timeout_seconds=10, delivery_lease_seconds=30)  # the least
    with pytest.raises(ValidationError, match="NOTIFICATIONS_DELIVERY_LEASE_SECONDS=29 must be at least"):
        Settings(webhook_timeout_seconds=10, smtp_timeout_seconds=10, delivery_lease_seconds=29)
    with pytest.raises(ValidationError, match="longest send timeout \\(25 s\\)"):
        Settings(webhook_timeout_seconds=25, delivery_lease_seconds=59, shutdown_grace_seconds=60)


def test_a_grace_that_would_cancel_a_round_between_send_and_record_is_refused() -> None:
    with pytest.raises(ValidationError, match="NOTIFICATIONS_SHUTDOWN_GRACE_SECONDS=14 must be at least"):
        Settings(webhook_timeout_seconds=10, smtp_timeout_seconds=10, shutdown_grace_seconds=14)
    assert (
        Settings(
            webhook_timeout_seconds=3, smtp_timeout_seconds=3, shutdown_grace_seconds=8
        ).shutdown_grace_seconds
        == 8
    )
