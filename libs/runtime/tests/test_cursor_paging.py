"""Cursor paging: opaque cursors round-trip, foreign ones are refused, pages say if more follow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tangible_runtime.audit import mask
from tangible_runtime.paging import CursorPage, CursorPaging, InvalidCursor, decode_cursor, encode_cursor


def test_a_cursor_round_trips_its_key() -> None:
    at = datetime(2026, 12, 6, tzinfo=UTC)
    assert decode_cursor(encode_cursor((at, "acct-1", 7))) == (at.isoformat(), "acct-1", 7)


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "e30", encode_cursor(()), "W251bGxd"])
def test_a_cursor_the_service_did_not_return_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_a_page_has_a_next_cursor_only_when_more_follow() -> None:
    paging = CursorPaging(limit=2, after=None)
    full = CursorPage[int].of([5, 4, 3], paging, lambda item: (item,))
    assert full.items == [5, 4] and full.next_cursor is not None
    assert decode_cursor(full.next_cursor) == (4,)
    last = CursorPage[int].of([2], paging, lambda item: (item,))
    assert last.items == [2] and last.next_cursor is None


def test_secrets_are_masked_and_absent_values_stay_absent() -> None:
    assert mask({"secret": "s3cr3t", "token": None, "name": "x"}, ["secret", "token"]) == {
        "secret": "***",
        "token": None,
        "name": "x",
    }
    assert mask(None, ["secret"]) is None
