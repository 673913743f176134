"""The book's service layer, rewards' part, over the in-memory unit of work: open credit
expiring within the window of `now` (expired, later and never-expiring credit left out), per
account and unit, soonest first; keyset pages after an entry's key (as the entry has it or as
a decoded cursor does); an export batch after batch, each in a transaction of its own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.rewards.tests.unit.harness import TENANT, Harness
from tangible_rewards.domain import commands
from tangible_rewards.service_layer import book, handlers
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_rewards.service_layer.reads import ExpiringCredit

MONTH = timedelta(days=30)


async def grant(
    harness: Harness, account: str, amount: str, expires_in: timedelta | None, unit: str = "credits"
) -> None:
    expires_at = None if expires_in is None else harness.clock.now() + expires_in
    command = commands.Adjust(TENANT, account, Decimal(amount), unit, "admin", "grant", expires_at=expires_at)
    await handlers.adjust(command, uow=harness.uow, clock=harness.clock)


async def page(
    harness: Harness,
    *,
    within: timedelta = MONTH,
    unit: str | None = None,
    after: tuple[object, ...] | None = None,
    limit: int = 50,
    tenant_id: str = TENANT,
) -> list[ExpiringCredit]:
    return await book.book_page(
        harness.uow,
        tenant_id=tenant_id,
        now=harness.clock.now(),
        within=within,
        unit=unit,
        after=after,
        limit=limit,
    )


def shown(entries: list[ExpiringCredit]) -> list[tuple[str, str, Decimal]]:
    return [(e.account_id, e.unit, e.expiring) for e in entries]


async def test_credit_expiring_within_the_window_per_account_and_unit_soonest_first(
    harness: Harness,
) -> None:
    granted = harness.clock.now()
    await grant(harness, "acct-a", "10", timedelta(days=5))
    await grant(harness, "acct-a", "4", timedelta(days=20))
    await grant(harness, "acct-b", "7", timedelta(days=2))
    await grant(harness, "acct-c", "9", timedelta(days=60))  # beyond a month
    await grant(harness, "acct-d", "3", None)  # never expires
    await grant(harness, "acct-e", "5", MONTH + timedelta(days=1))  # the window's end is not in it
    await grant(harness, "acct-f", "2", timedelta(hours=12))
    await grant(harness, "acct-g", "8", timedelta(days=1))
    harness.clock.advance(timedelta(days=1))  # acct-f's has expired by now, acct-g's is due on the dot

    entries = await page(harness)

    assert shown(entries) == [
        ("acct-g", "credits", Decimal("8.00")),
        ("acct-b", "credits", Decimal("7.00")),
        ("acct-a", "credits", Decimal("14.00")),
    ]
    assert entries[2].first_expiry == granted + timedelta(days=5)
    assert entries[2].key == (granted + timedelta(days=5), "acct-a", "credits")
    assert shown(await page(harness, within=timedelta(days=5))) == [
        ("acct-g", "credits", Decimal("8.00")),
        ("acct-b", "credits", Decimal("7.00")),
        ("acct-a", "credits", Decimal("10.00")),
    ]
    assert await page(harness, tenant_id="another-tenant") == []


async def test_the_unit_filter_keeps_that_unit_only(harness: Harness) -> None:
    await grant(harness, "acct-a", "10", timedelta(days=5))
    await grant(harness, "acct-a", "3", timedelta(days=3), unit="seats")
    await grant(harness, "acct-b", "6", timedelta(days=4), unit="seats")

    assert shown(await page(harness)) == [
        ("acct-a", "seats", Decimal("3.00")),
        ("acct-b", "seats", Decimal("6.00")),
        ("acct-a", "credits", Decimal("10.00")),
    ]
    assert shown(await page(harness, unit="seats")) == [
        ("acct-a", "seats", Decimal("3.00")),
        ("acct-b", "seats", Decimal("6.00")),
    ]
    assert await page(harness, unit="points") == []


async def test_pages_follow_on_after_the_last_key_as_an_entry_or_a_cursor_has_it(harness: Harness) -> None:
    for n, account in enumerate(["acct-c", "acct-a", "acct-b", "acct-d", "acct-e"]):
        await grant(harness, account, "1", timedelta(days=1 + n // 2))  # ties on expiry: by account

    first = await page(harness, limit=2)
    second = await page(harness, after=first[-1].key, limit=2)
    at, account, unit = second[-1].key
    third = await page(harness, after=(at.isoformat(), account, unit), limit=2)  # a decoded cursor's

    assert [e.account_id for e in first] == ["acct-a", "acct-c"]
    assert [e.account_id for e in second] == ["acct-b", "acct-d"]
    assert [e.account_id for e in third] == ["acct-e"]
    with pytest.raises(ValueError):
        await page(harness, after=("acct-a", "credits"))
    with pytest.raises(ValueError):
        await page(harness, after=("not a time", "acct-a", "credits"))


async def test_an_export_reads_every_entry_once_in_batches_each_in_its_own_transaction(
    harness: Harness,
) -> None:
    for n in range(7):
        await grant(harness, f"acct-{n}", "1", timedelta(days=1 + n))
    opened = 0

    def new_uow() -> UnitOfWork:
        nonlocal opened
        opened += 1
        return harness.uow

    batches = [
        [e.account_id for e in entries]
        async for entries in book.whole_book(
            new_uow, tenant_id=TENANT, now=harness.clock.now(), within=MONTH, unit=None, batch=3
        )
    ]

    assert batches == [["acct-0", "acct-1", "acct-2"], ["acct-3", "acct-4", "acct-5"], ["acct-6"]]
    assert opened == 3


async def test_an_export_of_an_exact_multiple_ends_with_an_empty_read(harness: Harness) -> None:
    for n in range(4):
        await grant(harness, f"acct-{n}", "1", timedelta(days=1 + n))
    reads = 0

    def new_uow() -> UnitOfWork:
        nonlocal reads
        reads += 1
        return harness.uow

    found = [
        entries
        async for entries in book.whole_book(
            new_uow, tenant_id=TENANT, now=harness.clock.now(), within=MONTH, unit=None, batch=2
        )
    ]

    assert [len(entries) for entries in found] == [2, 2] and reads == 3
