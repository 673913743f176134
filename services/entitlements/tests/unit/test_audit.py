"""The hash chain: each record covers its content and its predecessor's hash."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from tangible_entitlements.domain import audit

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def entries(n: int, account: str = "a") -> list[audit.HistoryEntry]:
    return [
        audit.HistoryEntry(
            "t",
            account,
            "l1",
            "seat_assigned",
            "credential:c1",
            None,
            {"assigned": i},
            {"assigned": i + 1},
            NOW + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def chained(n: int) -> list[dict[str, Any]]:
    records, _ = audit.chain(entries(n), {})
    return records


def test_records_link_to_their_predecessor_per_account() -> None:
    records, heads = audit.chain([*entries(2, "a"), *entries(1, "b")], {})
    assert [(r["account_id"], r["seq"]) for r in records] == [("a", 1), ("a", 2), ("b", 1)]
    assert records[0]["prev_hash"] == audit.GENESIS and records[1]["prev_hash"] == records[0]["hash"]
    assert records[2]["prev_hash"] == audit.GENESIS
    assert heads == {("t", "a"): (2, records[1]["hash"]), ("t", "b"): (1, records[2]["hash"])}
    more, _ = audit.chain(entries(1, "a"), heads)
    assert (more[0]["seq"], more[0]["prev_hash"]) == (3, records[1]["hash"])


def test_an_intact_chain_verifies() -> None:
    records = chained(4)
    assert audit.verify(records, complete=True, head=(4, records[-1]["hash"])) == audit.Verdict(True, 4)


def test_an_altered_field_points_at_its_record() -> None:
    records = chained(4)
    records[2]["reason"] = "nothing to see"
    verdict = audit.verify(records, complete=True)
    assert (verdict.intact, verdict.first_altered_seq) == (False, 3)


def test_an_altered_and_rehashed_record_breaks_the_link_after_it() -> None:
    records = chained(4)
    records[1]["after"] = {"assigned": 99}
    records[1]["hash"] = audit.record_hash(records[1])
    verdict = audit.verify(records)
    assert (verdict.first_altered_seq, verdict.problem) == (2, "the chain breaks after it")


def test_a_fully_rewritten_export_is_caught_by_the_stored_chain() -> None:
    records = chained(3)
    stored = {r["seq"]: r["hash"] for r in records}
    forged = copy.deepcopy(records)
    forged[1]["actor"] = "someone else"
    for i in range(1, 3):  # re-hash everything after the change: internally consistent
        forged[i]["prev_hash"] = forged[i - 1]["hash"]
        forged[i]["hash"] = audit.record_hash(forged[i])
    assert audit.verify(forged).intact
    verdict = audit.verify(forged, stored=stored)
    assert (verdict.intact, verdict.first_altered_seq) == (False, 2)


def test_missing_records_are_found_in_complete_chains() -> None:
    records = chained(5)
    del records[2]
    assert audit.verify(records, complete=True).first_altered_seq == 3
    assert audit.verify(records).intact  # a filtered export may skip records
    tail = chained(5)[:4]
    verdict = audit.verify(tail, complete=True, head=(5, "x"))
    assert (verdict.first_altered_seq, verdict.problem) == (5, "records are missing at the end")


def test_hashes_survive_a_json_round_trip_through_the_database() -> None:
    record = chained(1)[0]
    stored = {**record, "at": audit.timestamp(record["at"]), "before": {"assigned": 0.0}, "reason": ""}
    assert audit.record_hash(stored) == record["hash"]
