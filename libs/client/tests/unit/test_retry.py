"""Retry-After parsing and the retryable statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tangible_client.retry import RetryPolicy, is_retryable_status, is_throttled, retry_after


def response(value: str | None) -> httpx.Response:
    return httpx.Response(503, headers={"Retry-After": value} if value is not None else {})


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("Thu, 26 Nov 2026 10:00:30 GMT", 30.0),
        ("Thu, 26 Nov 2026 09:00:00 GMT", 0.0),
    ],
)
def test_retry_after_reads_delta_seconds_and_http_dates(value: str, seconds: float) -> None:
    now = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
    assert retry_after(response(value), now) == seconds


@pytest.mark.parametrize("value", [None, "soon", "-3", ""])
def test_retry_after_is_none_when_absent_or_unreadable(value: str | None) -> None:
    assert retry_after(response(value)) is None


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (503, True), (504, True)])
def test_429_and_5xx_are_retried(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 422])
def test_other_4xx_are_not_retried(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize(
    ("status", "wait", "throttled"),
    [
        (429, None, True),
        (429, 1.0, True),
        (503, 1.0, True),
        (503, 0.0, True),
        (503, None, False),
        (502, 1.0, False),
    ],
)
def test_a_429_or_a_503_with_retry_after_is_throttling(
    status: int, wait: float | None, throttled: bool
) -> None:
    assert is_throttled(status, wait) is throttled


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(initial_backoff=2, max_backoff=1)
    with pytest.raises(ValueError):
        RetryPolicy(max_retry_after=-1)
