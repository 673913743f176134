"""The book's service layer: every row of an export once, batch after batch, each batch read
after the previous one's last key, in a transaction of its own; `now` the same throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self, cast

from tangible_entitlements.service_layer import book
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.reads import BookFilter, BookRow, BookSort

NOW = datetime(2026, 11, 5, tzinfo=UTC)


def _row(n: int) -> BookRow:
    return BookRow(
        license_id=f"lic-{n:02}",
        account_id=f"acct-{n:02}",
        plan_key="starter",
        status="active",
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        seats=0,
        seats_assigned=0,
        limit_used_percent=None,
        limits=[],
        risk=None,
        upgrade_suggestions=[],
        key=("acct", f"lic-{n:02}"),
    )


class FakeBook:
    def __init__(self, rows: list[BookRow]) -> None:
        self.rows = rows
        self.reads: list[tuple[tuple[Any, ...] | None, datetime]] = []

    async def page(
        self,
        tenant_id: str,
        filters: BookFilter,
        sort: BookSort,
        *,
        now: datetime,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[BookRow]:
        self.reads.append((after, now))
        start = 0 if after is None else next(i for i, r in enumerate(self.rows) if r.key == after) + 1
        return self.rows[start : start + limit]


class FakeUow:
    opened = 0

    def __init__(self, book: FakeBook) -> None:
        self.book = book

    async def __aenter__(self) -> Self:
        FakeUow.opened += 1
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


async def test_an_export_reads_every_row_once_in_batches() -> None:
    fake = FakeBook([_row(n) for n in range(7)])
    FakeUow.opened = 0
    batches = [
        [r.license_id for r in rows]
        async for rows in book.whole_book(
            lambda: cast(UnitOfWork, FakeUow(fake)),
            tenant_id="t1",
            filters=BookFilter(),
            sort="account_id",
            now=NOW,
            batch=3,
        )
    ]
    assert batches == [["lic-00", "lic-01", "lic-02"], ["lic-03", "lic-04", "lic-05"], ["lic-06"]]
    assert [after for after, _ in fake.reads] == [None, ("acct", "lic-02"), ("acct", "lic-05")]
    assert {now for _, now in fake.reads} == {NOW} and FakeUow.opened == 3


async def test_an_exact_multiple_ends_with_an_empty_read() -> None:
    fake = FakeBook([_row(n) for n in range(4)])
    found = [
        rows
        async for rows in book.whole_book(
            lambda: cast(UnitOfWork, FakeUow(fake)),
            tenant_id="t1",
            filters=BookFilter(),
            sort="account_id",
            now=NOW,
            batch=2,
        )
    ]
    assert [len(rows) for rows in found] == [2, 2] and len(fake.reads) == 3
