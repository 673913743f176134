"""Rows of an import file → CloudEvents: stable ids, both shapes, bad rows named."""

from __future__ import annotations

import io

import pytest

from tangible_client.importer.rows import RowError, read_csv, read_ndjson, to_event

SOURCE = "import:0123456789abcdef"


def test_a_flat_row_becomes_a_cloudevent_with_a_stable_id() -> None:
    row = {
        "type": "report.generated",
        "account_id": "a1",
        "time": "2026-03-01T10:00:00Z",
        "quantity": "2",
        "x": "y",
    }
    event = to_event(row, 7, SOURCE)
    assert event["id"] == "line-7" and event["source"] == SOURCE and event["subject"] == "a1"
    assert event["data"] == {"quantity": 2.0, "x": "y"}


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({"type": "t", "account_id": "a"}, "missing-time"),
        ({"type": "t", "account_id": "a", "time": "2026-03-01T10:00:00"}, "invalid-time"),
        ({"account_id": "a", "time": "2026-03-01T10:00:00Z"}, "missing-type"),
        (
            {"type": "t", "account_id": "a", "time": "2026-03-01T10:00:00Z", "quantity": "many"},
            "invalid-quantity",
        ),
    ],
)
def test_rows_no_server_would_take_are_named(row: dict[str, str], code: str) -> None:
    with pytest.raises(RowError) as raised:
        to_event(row, 1, SOURCE)
    assert raised.value.code == code


def test_ndjson_resumes_from_an_offset_with_its_line_numbers() -> None:
    lines = [b'{"type":"t","account_id":"a","time":"2026-03-01T10:00:00Z"}\n', b"\n", b"{oops\n"]
    data = io.BytesIO(b"".join(lines))
    rows = list(read_ndjson(data, 0, 1, SOURCE))  # type: ignore[arg-type]
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [(1, None), (3, "malformed-json")]
    resumed = list(read_ndjson(data, rows[0].end, 2, SOURCE))  # type: ignore[arg-type]
    assert [r.line for r in resumed] == [3]


def test_ndjson_tells_bytes_that_are_not_utf8_from_text_that_is_not_json() -> None:
    data = io.BytesIO(b'{"type":"t\xff"}\n{"type": nope}\n')
    rows = list(read_ndjson(data, 0, 1, SOURCE))  # type: ignore[arg-type]
    assert [r.error.code if r.error else None for r in rows] == ["invalid-utf8", "malformed-json"]


def test_csv_reads_its_header_and_resumes_after_a_row() -> None:
    data = io.BytesIO(b"type,account_id,time\nt,a,2026-03-01T10:00:00Z\nt,b\n")
    rows = list(read_csv(data, 0, 1, SOURCE))  # type: ignore[arg-type]
    assert [(r.line, r.error.code if r.error else None) for r in rows] == [
        (2, None),
        (3, "wrong-column-count"),
    ]
    assert [r.line for r in read_csv(data, rows[0].end, 3, SOURCE)] == [3]  # type: ignore[arg-type]
