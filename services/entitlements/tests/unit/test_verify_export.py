"""The offline verify command: an intact export passes, an altered one names its record."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tangible_entitlements.domain import audit
from tangible_entitlements.entrypoints.verify_export import main
from tangible_entitlements.service_layer import history

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def exported(n: int = 4) -> dict[str, Any]:
    entries = [
        audit.HistoryEntry(
            "t", "a", "l1", "seat_assigned", "credential:c1", None, {"n": i}, {"n": i + 1}, NOW + timedelta(i)
        )
        for i in range(n)
    ]
    records, heads = audit.chain(entries, {})
    rows = [history.record({**r, "id": r["seq"]}) for r in records]
    seq, digest = heads[("t", "a")]
    return {"account_id": "a", "complete": True, "head": {"seq": seq, "hash": digest}, "records": rows}


def run(path: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([str(path), *args])
    return code, json.loads(capsys.readouterr().out)


def test_an_intact_json_export_passes_and_an_altered_one_names_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = exported()
    path = tmp_path / "history.json"
    path.write_text(json.dumps(body))
    assert run(path, capsys=capsys) == (
        0,
        {"intact": True, "checked": 4, "first_altered_seq": None, "problem": None},
    )

    body["records"][1]["after"] = {"n": 99}
    path.write_text(json.dumps(body))
    code, verdict = run(path, capsys=capsys)
    assert (code, verdict["first_altered_seq"]) == (1, 2)


def test_a_csv_export_is_checked_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(history.COLUMNS)
    for r in exported()["records"]:
        writer.writerow(
            [
                json.dumps(r[c]) if c in ("before", "after") else ("" if r[c] is None else r[c])
                for c in history.COLUMNS
            ]
        )
    path = tmp_path / "history.csv"
    path.write_text(buffer.getvalue())
    assert run(path, capsys=capsys)[0] == 0
    path.write_text(buffer.getvalue().replace("credential:c1", "credential:c2", 1))
    code, verdict = run(path, capsys=capsys)
    assert (code, verdict["first_altered_seq"]) == (1, 1)


def test_a_rewritten_export_is_caught_only_against_an_independent_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = exported()
    anchor = f"{original['head']['seq']}:{original['head']['hash']}"
    entries = [
        audit.HistoryEntry("t", "a", "l1", "seat_assigned", "credential:forger", None, None, None, NOW)
        for _ in range(4)
    ]
    records, heads = audit.chain(entries, {})
    forged = {
        "account_id": "a",
        "complete": True,
        "head": {"seq": 4, "hash": heads[("t", "a")][1]},
        "records": [history.record({**r, "id": r["seq"]}) for r in records],
    }
    path = tmp_path / "history.json"
    path.write_text(json.dumps(forged))
    assert run(path, capsys=capsys)[0] == 0  # consistent in itself
    code, verdict = run(path, "--head", anchor, capsys=capsys)
    assert (code, verdict["first_altered_seq"], verdict["problem"]) == (
        1,
        4,
        "it differs from the chain head",
    )
    assert main([str(tmp_path / "missing.json")]) == 2
    with pytest.raises(SystemExit):
        main([str(path), "--head", "4:nothex"])
