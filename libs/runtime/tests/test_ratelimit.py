"""The token-bucket limiter: costed requests, debt for oversized ones, IETF headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tangible_runtime.domain import ManualClock
from tangible_runtime.ratelimit import TokenBucketLimiter

START = datetime(2026, 11, 26, tzinfo=UTC)


def limiter(quota: int = 100, **kwargs: object) -> tuple[TokenBucketLimiter, ManualClock]:
    clock = ManualClock(START)
    return TokenBucketLimiter(quota, policy="events", clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_a_request_costs_its_size_and_is_refused_once_the_bucket_is_spent() -> None:
    bucket, _ = limiter(100)
    first = bucket.acquire("t1", 60)
    assert (first.allowed, first.remaining, first.reset_seconds) == (True, 40, 1)
    refused = bucket.acquire("t1", 60)
    assert not refused.allowed
    assert refused.remaining == 40  # a refused request spends nothing
    assert refused.retry_after_seconds == 1
    assert bucket.acquire("t1", 40).allowed


def test_retry_after_says_when_the_whole_cost_fits() -> None:
    bucket, clock = limiter(10)
    assert bucket.acquire("t1", 10).allowed
    refused = bucket.acquire("t1", 10)
    assert refused.retry_after_seconds == 1
    clock.advance(timedelta(milliseconds=500))
    assert not bucket.acquire("t1", 10).allowed
    clock.advance(timedelta(milliseconds=500))
    assert bucket.acquire("t1", 10).allowed


def test_the_bucket_refills_continuously_up_to_one_window() -> None:
    bucket, clock = limiter(100, window_seconds=10)  # 10 units per second
    assert bucket.acquire("t1", 100).allowed
    clock.advance(timedelta(seconds=3))
    decision = bucket.acquire("t1", 0)
    assert (decision.remaining, decision.reset_seconds) == (30, 7)
    clock.advance(timedelta(hours=1))
    assert bucket.acquire("t1", 0).remaining == 100


def test_a_request_larger_than_the_bucket_passes_when_full_and_leaves_debt() -> None:
    bucket, clock = limiter(100)
    assert bucket.acquire("t1", 250).allowed
    refused = bucket.acquire("t1", 1)
    assert (refused.allowed, refused.remaining, refused.retry_after_seconds) == (False, 0, 2)
    clock.advance(timedelta(seconds=2))
    assert not bucket.acquire("t1", 100).allowed  # the debt is repaid first
    clock.advance(timedelta(seconds=1))
    assert bucket.acquire("t1", 100).allowed


def test_keys_are_independent() -> None:
    bucket, _ = limiter(10)
    assert bucket.acquire("t1", 10).allowed
    assert not bucket.acquire("t1", 1).allowed
    assert bucket.acquire("t2", 10).allowed


def test_refund_gives_back_what_an_unserved_request_spent() -> None:
    bucket, _ = limiter(10)
    assert bucket.acquire("t1", 10).allowed
    bucket.refund("t1", 10)
    assert bucket.acquire("t1", 10).allowed


def test_headers_follow_the_ietf_draft() -> None:
    bucket, _ = limiter(100)
    allowed = bucket.acquire("t1", 30).headers()
    assert allowed == {"RateLimit-Policy": '"events";q=100;w=1', "RateLimit": '"events";r=70;t=1'}
    bucket.acquire("t1", 70)
    refused = bucket.acquire("t1", 50).headers()
    assert refused["RateLimit"] == '"events";r=0;t=1'
    assert refused["Retry-After"] == "1"


def test_full_buckets_are_forgotten_when_there_are_too_many_keys() -> None:
    bucket, clock = limiter(10, max_keys=2)
    bucket.acquire("a", 5)
    bucket.acquire("b", 5)
    clock.advance(timedelta(seconds=1))
    bucket.acquire("c", 5)
    assert bucket.acquire("a", 0).remaining == 10
