"""The audit side of the history: exports (JSON, CSV) and their verification.

A JSON export carries the chain head it was cut at and whether it is complete (no
filters), so that verification can also spot removed records. Verification recomputes
every record's hash and every link; against the service (the verify endpoint) it also
compares each record with the stored chain, so an export altered and re-hashed end to end
is still caught.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tangible_entitlements.domain import audit
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.reads import HistoryFilter, HistoryRecord

COLUMNS = (
    "seq",
    "id",
    "tenant_id",
    "account_id",
    "license_id",
    "action",
    "actor",
    "reason",
    "at",
    "before",
    "after",
    "prev_hash",
    "hash",
)


def record(written: HistoryRecord | Mapping[str, Any]) -> dict[str, Any]:
    """A history record as exported (and as the hash covers it), from the store or as
    `audit.chain` writes it."""
    row = written if isinstance(written, Mapping) else vars(written)
    return {
        "seq": int(row["seq"]),
        "id": int(row["id"]),
        "tenant_id": row["tenant_id"],
        "account_id": row["account_id"],
        "license_id": row["license_id"],
        "action": row["action"],
        "actor": row["actor"],
        "reason": row["reason"],
        "at": audit.timestamp(row["at"]),
        "before": row["before"],
        "after": row["after"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def export(
    uow: UnitOfWork, tenant_id: str, account_id: str, filters: HistoryFilter, fmt: str, now: datetime
) -> AsyncIterator[str]:
    """The account's history as JSON or CSV, streamed a batch at a time, cut at the head."""
    async with uow:
        head = await uow.history.head(tenant_id, account_id) or (0, audit.GENESIS)
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(COLUMNS)
            yield buffer.getvalue()
        else:
            meta = {
                "tenant_id": tenant_id,
                "account_id": account_id,
                "exported_at": audit.timestamp(now),
                "complete": filters.empty,
                "head": {"seq": head[0], "hash": head[1]},
            }
            yield _json(meta)[:-1] + ',"records":['
        first = True
        async for batch in uow.history.batches(tenant_id, account_id, filters):
            records = [record(r) for r in batch if r.seq <= head[0]]
            if fmt == "csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\n")
                for r in records:
                    writer.writerow(
                        [
                            _json(r[c]) if c in ("before", "after") else ("" if r[c] is None else r[c])
                            for c in COLUMNS
                        ]
                    )
                yield buffer.getvalue()
            elif records:
                yield ("" if first else ",") + ",".join(_json(r) for r in records)
                first = False
        if fmt != "csv":
            yield "]}"


@dataclass(frozen=True)
class Export:
    records: list[dict[str, Any]]
    complete: bool = False
    head: tuple[int, str] | None = None
    account_id: str | None = None


class UnreadableExport(ValueError):
    """Not an export this service wrote."""


def parse(data: bytes, *, is_csv: bool) -> Export:
    try:
        if is_csv:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
            records = [
                {
                    **row,
                    "license_id": row.get("license_id") or None,
                    "reason": row.get("reason") or None,
                    "before": json.loads(row["before"]),
                    "after": json.loads(row["after"]),
                }
                for row in rows
            ]
            return Export(_ordered(records), account_id=records[0]["account_id"] if records else None)
        body = json.loads(data)
        head = body.get("head")
        return Export(
            _ordered(list(body["records"])),
            complete=bool(body.get("complete")),
            head=(int(head["seq"]), str(head["hash"])) if head else None,
            account_id=body.get("account_id"),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise UnreadableExport(f"not a history export: {error}") from error


def _ordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in records:
        r["seq"] = int(r["seq"])
    return sorted(records, key=lambda r: r["seq"])


async def verify_stored(uow: UnitOfWork, tenant_id: str, account_id: str) -> audit.Verdict:
    """The stored chain, record by record, up to its head (an altered row is found here)."""
    async with uow:
        head = await uow.history.head(tenant_id, account_id)
        records: list[dict[str, Any]] = []
        async for batch in uow.history.batches(tenant_id, account_id, HistoryFilter()):
            records.extend(record(r) for r in batch)
    return audit.verify(records, complete=True, head=head)


async def verify_export(uow: UnitOfWork, tenant_id: str, account_id: str, data: Export) -> audit.Verdict:
    """An export against itself and against the stored chain."""
    async with uow:
        stored = await uow.history.hashes(tenant_id, account_id, [r["seq"] for r in data.records])
    head = data.head if data.complete else None
    return audit.verify(data.records, complete=data.complete, stored=stored, head=head)
