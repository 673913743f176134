"""The tamper-evident history: each record carries the hash of its predecessor in its
account's chain, and its own hash covers its content and that link.

hash = SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the fields in
`HASHED`; `at` in UTC with microseconds; integral numbers as integers; an empty reason as
null. The first record of a chain links to `GENESIS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tangible_entitlements.domain.model import License

GENESIS = "0" * 64
HASHED = (
    "tenant_id",
    "account_id",
    "seq",
    "license_id",
    "action",
    "actor",
    "reason",
    "before",
    "after",
    "at",
    "prev_hash",
)


def _normal(value: Any) -> Any:
    """JSON as PostgreSQL's jsonb gives it back (1e20 comes back as an integer)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def timestamp(at: datetime | str) -> str:
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(record: Mapping[str, Any]) -> bytes:
    body: dict[str, Any] = {key: record.get(key) for key in HASHED}
    body["seq"] = int(record["seq"])
    body["reason"] = body["reason"] or None
    body["at"] = timestamp(record["at"])
    body["before"] = _normal(body["before"])
    body["after"] = _normal(body["after"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    intact: bool
    checked: int
    first_altered_seq: int | None = None
    problem: str | None = None


def verify(
    records: Iterable[Mapping[str, Any]],
    *,
    complete: bool = False,
    stored: Mapping[int, str] | None = None,
    head: tuple[int, str] | None = None,
) -> Verdict:
    """Check records in chain order. Each must match its own hash; consecutive ones must
    link; `complete` (a whole chain) also refuses gaps; `stored` (seq → hash as the database
    holds it) and `head` anchor an export to the chain it came from."""
    problems: list[tuple[int, str]] = []
    previous: Mapping[str, Any] | None = None
    checked = 0
    for record in records:
        checked += 1
        seq = int(record["seq"])
        if record.get("hash") != record_hash(record):
            problems.append((seq, "its content does not match its hash"))
        if stored is not None and stored.get(seq) != record.get("hash"):
            problems.append((seq, "it differs from the stored chain"))
        expected = int(previous["seq"]) + 1 if previous is not None else 1
        if previous is not None and seq == expected and record.get("prev_hash") != previous.get("hash"):
            # this record's link is covered by its own hash: the predecessor is the altered one
            own_ok = record.get("hash") == record_hash(record)
            problems.append((seq - 1 if own_ok else seq, "the chain breaks after it"))
        if seq == 1 and record.get("prev_hash") != GENESIS:
            problems.append((seq, "the first record does not start the chain"))
        if complete and seq != expected:
            problems.append((min(seq, expected), "records are missing"))
        previous = record
    if head is not None and (previous is None or (int(previous["seq"]), previous.get("hash")) != head):
        last = int(previous["seq"]) if previous is not None else 0
        if head[0] != last:
            problems.append((min(last + 1, head[0]), "records are missing at the end"))
        else:
            problems.append((last, "it differs from the chain head"))
    if not problems:
        return Verdict(True, checked)
    seq, problem = min(problems)
    return Verdict(False, checked, seq, problem)


@dataclass(frozen=True)
class HistoryEntry:
    """One change to record: who, why, before and after (chained when written)."""

    tenant_id: str
    account_id: str
    license_id: str | None
    action: str
    actor: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


def chain(
    entries: Iterable[HistoryEntry], heads: Mapping[tuple[str, str], tuple[int, str]]
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], tuple[int, str]]]:
    """Records with seq, prev_hash and hash, continuing each account's chain from its head;
    and the new heads."""
    current = dict(heads)
    records = []
    for entry in entries:
        account = (entry.tenant_id, entry.account_id)
        seq, prev = current.get(account, (0, GENESIS))
        record: dict[str, Any] = {
            "tenant_id": entry.tenant_id,
            "account_id": entry.account_id,
            "license_id": entry.license_id,
            "action": entry.action,
            "actor": entry.actor,
            "reason": entry.reason or None,
            "before": entry.before,
            "after": entry.after,
            "at": entry.at,
            "seq": seq + 1,
            "prev_hash": prev,
        }
        record["hash"] = record_hash(record)
        records.append(record)
        current[account] = (seq + 1, record["hash"])
    return records, current


def license_entry(
    license: License,
    *,
    action: str,
    actor: str,
    reason: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
) -> HistoryEntry:
    return HistoryEntry(
        license.tenant_id, license.account_id, license.id, action, actor, reason, before, after, at
    )
