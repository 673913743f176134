"""Record keys split back into the tenant and subject they were built from."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tangible_schemas import new_event, parse_record_key, record_key, to_record
from tangible_schemas.credentials import CredentialRevoked


@given(st.text(), st.text())
def test_any_tenant_and_subject_round_trip(tenant: str, subject: str) -> None:
    assert parse_record_key(record_key(tenant, subject)) == (tenant, subject)


@given(st.text(alphabet=st.sampled_from("a/%2F5")), st.text(alphabet=st.sampled_from("a/%2F5")))
def test_distinct_parts_never_share_a_key(tenant: str, subject: str) -> None:
    """Slashes and percent signs, the characters that could confuse a split, dense."""
    assert parse_record_key(record_key(tenant, subject)) == (tenant, subject)
    assert record_key(tenant, subject).count(b"/") == 1


def test_a_subject_with_a_slash_no_longer_reads_as_another_tenant() -> None:
    assert record_key("tenant", "a/b") == b"tenant/a%2Fb"
    assert record_key("tenant/a", "b") == b"tenant%2Fa/b"
    assert record_key("t", "100%/x") == b"t/100%25%2Fx"


def test_keys_of_plain_ids_are_unchanged_so_accounts_keep_their_partitions() -> None:
    assert record_key("demo", "acct-1") == b"demo/acct-1"
    assert record_key("demo", "café@example.com") == "demo/café@example.com".encode()


@pytest.mark.parametrize("key", [b"no-separator", b"t/a/b", b"t/50%", b"t/%2f", b"%41/x"])
def test_keys_no_producer_makes_are_refused(key: bytes) -> None:
    with pytest.raises(ValueError):
        parse_record_key(key)


def test_records_are_keyed_with_the_encoding() -> None:
    data = CredentialRevoked.model_validate(
        {"tenant_id": "t/1", "credential_id": "c/2", "revoked_at": "2026-01-01T00:00:00Z"}
    )
    record = to_record(new_event(data, source="tests"))
    assert parse_record_key(record.key) == ("t/1", "c/2")
