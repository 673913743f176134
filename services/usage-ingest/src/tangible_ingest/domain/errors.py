"""Errors of usage-ingest's domain."""

from __future__ import annotations

from tangible_runtime.domain import DomainError


class PublishUnavailable(DomainError):
    """Kafka did not acknowledge in time: nothing of the batch counts as accepted."""

    code = "broker-unavailable"


class StoreUnavailable(DomainError):
    """The dedup store (PostgreSQL) could not be reached: nothing of the batch counts."""

    code = "store-unavailable"
