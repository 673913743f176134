"""What an entitlements process needs to be ready, per role (issue 22): the check API
answers from its in-memory view, so neither a database nor a broker blip takes it out of
service; the consumer needs both; a process of every role, what any of them needs."""

from __future__ import annotations

from tangible_entitlements.bootstrap import ROLES, SERVICE
from tangible_runtime.composition import readiness_needs


def test_the_check_api_needs_neither_database_nor_kafka_to_be_ready() -> None:
    assert readiness_needs(SERVICE, ["api"]) == frozenset()


def test_the_consumer_needs_database_and_kafka() -> None:
    assert readiness_needs(SERVICE, ["consumer"]) == {"database", "kafka"}


def test_every_role_in_one_process_needs_the_union() -> None:
    assert readiness_needs(SERVICE, ROLES) == {"database", "kafka"}
    assert readiness_needs(SERVICE, ["api", "scheduler"]) == {"database", "kafka"}
