"""Errors of usage-ingest's domain."""

from __future__ import annotations

from tangible_runtime.domain import DomainError


class PublishUnavailable(DomainError):
    """Kafka did not acknowledge in time: nothing of the batch counts as accepted."""

    code = "broker-unavailable"
