"""Per-key rate limits counted in units of cost, with the IETF `RateLimit` header fields.

A token bucket per key (a tenant, say): it refills continuously at `rate` units per
second up to one window's worth, and a request costs what it carries (a batch of 500
events costs 500). A request that costs more than the whole bucket is let through when
the bucket is full and leaves it in debt, so that the long-run rate still holds and no
request is refused forever.

Hand-written rather than taken from `limits` (already a dependency), because for costed
requests `limits` falls short: a cost above the limit is refused for ever, its window
statistics give the time until one unit frees up rather than until `cost` units do (so
`Retry-After` would be wrong for batches), it reads the wall clock directly (tests could
not drive it with a ManualClock), and its async storage takes a lock and schedules an
expiry task per hit where a bucket needs one subtraction.

Limits are per process: each replica (and each worker of a replica) keeps its own buckets.
Headers follow draft-ietf-httpapi-ratelimit-headers (RateLimit-Policy: "p";q=…;w=…,
RateLimit: "p";r=…;t=…).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tangible_runtime.domain import Clock, SystemClock


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    policy: str
    quota: int  # units per window
    window_seconds: int
    remaining: int  # units that could be spent now
    reset_seconds: int  # until the bucket is full again
    retry_after_seconds: int  # until this request's cost would fit; 0 when allowed

    def headers(self) -> dict[str, str]:
        """`RateLimit-Policy` and `RateLimit` always; `Retry-After` when refused."""
        headers = {
            "RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window_seconds}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


class TokenBucketLimiter:
    """`acquire(key, cost)` → a decision; refused requests spend nothing."""

    def __init__(
        self,
        quota: int,
        *,
        window_seconds: int = 1,
        policy: str = "default",
        clock: Clock | None = None,
        max_keys: int = 100_000,
    ) -> None:
        if quota <= 0 or window_seconds <= 0:
            raise ValueError("quota and window must be positive")
        self.policy = policy
        self.quota = quota
        self.window_seconds = window_seconds
        self._rate = quota / window_seconds
        self._clock = clock or SystemClock()
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.quota), now)
        else:
            # max(): a wall clock stepped back must not drain the bucket
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(float(self.quota), bucket.tokens + elapsed * self._rate)
            bucket.updated_at = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """Keys whose bucket has refilled carry no information: drop them."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated_at) * self._rate >= self.quota:
                del self._buckets[key]

    def acquire(self, key: str, cost: int = 1) -> RateLimitDecision:
        now = self._clock.now().timestamp()
        bucket = self._bucket(key, now)
        needed = min(float(cost), float(self.quota))
        if bucket.tokens >= needed:
            bucket.tokens -= cost
            return self._decision(bucket, allowed=True, retry_after=0)
        retry_after = max(1, math.ceil((needed - bucket.tokens) / self._rate))
        return self._decision(bucket, allowed=False, retry_after=retry_after)

    def refund(self, key: str, cost: int) -> None:
        """Give back what a request spent when it was not served (e.g. a 503)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(float(self.quota), bucket.tokens + cost)

    def _decision(self, bucket: _Bucket, *, allowed: bool, retry_after: int) -> RateLimitDecision:
        return RateLimitDecision(
            allowed=allowed,
            policy=self.policy,
            quota=self.quota,
            window_seconds=self.window_seconds,
            remaining=max(0, math.floor(bucket.tokens)),
            reset_seconds=max(0, math.ceil((self.quota - bucket.tokens) / self._rate)),
            retry_after_seconds=retry_after,
        )
