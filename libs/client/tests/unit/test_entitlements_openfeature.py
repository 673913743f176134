"""The OpenFeature provider: values, reasons and error codes mapped from the SDK's checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from tangible_client.entitlements import Entitlements
from tangible_client.entitlements.openfeature import EntitlementsProvider
from tangible_client.entitlements.testing import ManualClock, account, entitlement, view_transport

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ACME = EvaluationContext(targeting_key="acme")


@pytest.fixture
def sdk() -> Iterator[Entitlements]:
    found = [
        entitlement("sso"),
        entitlement("reports", kind="metered", limit=10, usage=4),
        entitlement("storage", kind="metered"),
        entitlement("support", kind="config", config="priority"),
        entitlement("theme", kind="config", config={"color": "teal"}),
    ]
    accounts = {"acme": account("acme", [(NOW, found)], valid_until=NOW + timedelta(days=1))}
    with Entitlements(
        "http://entitlements",
        token="t",
        stream=False,
        timeout=5.0,
        clock=ManualClock(NOW),
        transport=view_transport(accounts),
    ) as entitlements:
        yield entitlements


@pytest.fixture
def client(sdk: Entitlements) -> OpenFeatureClient:
    api.set_provider(EntitlementsProvider(sdk), domain="tangible-test")
    return api.get_client(domain="tangible-test")


def test_flags_read_access_numbers_and_config(client: OpenFeatureClient) -> None:
    granted = client.get_boolean_details("sso", False, ACME)
    assert granted.value is True and granted.reason == Reason.TARGETING_MATCH and granted.variant == "granted"
    assert client.get_float_value("reports", 0.0, ACME) == 6.0
    assert client.get_integer_value("reports.limit", 0, ACME) == 10
    assert client.get_float_value("storage.limit", 0.0, ACME) == float("inf")
    assert client.get_string_value("support", "basic", ACME) == "priority"
    assert client.get_object_value("theme", {}, ACME) == {"color": "teal"}


def test_errors_map_to_openfeature_codes(client: OpenFeatureClient) -> None:
    cases = [
        (client.get_boolean_details("sso", False), ErrorCode.TARGETING_KEY_MISSING),
        (client.get_boolean_details("nope", False, ACME), ErrorCode.FLAG_NOT_FOUND),
        (client.get_boolean_details("sso", False, EvaluationContext("other")), ErrorCode.PROVIDER_FATAL),
        (client.get_integer_details("storage", 0, ACME), ErrorCode.TYPE_MISMATCH),
        (client.get_string_details("reports", "x", ACME), ErrorCode.TYPE_MISMATCH),
    ]
    for details, code in cases:
        assert details.error_code == code and details.reason == Reason.ERROR


def test_a_stale_answer_says_so(sdk: Entitlements, client: OpenFeatureClient) -> None:
    client.get_boolean_value("sso", False, ACME)
    sdk.sdk.fresh, sdk.sdk.lost_at = False, NOW.timestamp()  # what losing the stream does
    details = client.get_boolean_details("sso", False, ACME)
    assert details.value is True and details.reason == Reason.STALE and details.flag_metadata["stale"] is True
