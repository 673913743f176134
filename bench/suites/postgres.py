"""The PostgreSQL limit of the consumers: batched, set-based writes on the same server, with
no service in between.

One transaction per batch, as every consumer does it: claim the batch's event ids in an
inbox table (`INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING`) and upsert one counter
per distinct account (`… ON CONFLICT DO UPDATE SET value = value + EXCLUDED.value`), from one
connection (a consumer writes one batch at a time). The consumers' figures divided by these
say how much of their budget goes to Kafka, decoding, domain code and their other tables.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import asyncpg

from bench.harness import Bench
from bench.report import Report
from tangible_devstack.databases import create_database, with_database

SUITE = "postgres"
ACCOUNTS = 2_000
BATCHES = (1_000, 3_000)  # rewards' and entitlements' consumer batch sizes
SECONDS = float(os.environ.get("BENCH_POSTGRES_SECONDS", "6"))

SCHEMA = """
CREATE TABLE inbox (
    consumer text NOT NULL, event_id text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id));
CREATE TABLE counters (
    tenant_id text NOT NULL, account_id text NOT NULL, feature_key text NOT NULL,
    period_start timestamptz NOT NULL, value numeric NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, account_id, feature_key, period_start));
"""
CLAIM = """
INSERT INTO inbox (consumer, event_id) SELECT 'bench', e FROM unnest($1::text[]) AS e
ON CONFLICT DO NOTHING
"""
UPSERT = """
INSERT INTO counters AS c (tenant_id, account_id, feature_key, period_start, value)
SELECT 'bench', a, 'reports', $2, v FROM unnest($1::text[], $3::numeric[]) AS k(a, v)
ON CONFLICT (tenant_id, account_id, feature_key, period_start)
DO UPDATE SET value = c.value + EXCLUDED.value, updated_at = now()
"""


async def _rate(url: str, batch: int, *, upsert: bool) -> tuple[float, int]:
    """(events/s, transactions) for SECONDS of back-to-back batches."""
    connection = await asyncpg.connect(url)
    period = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    try:
        events, transactions, n = 0, 0, 0
        stop = time.perf_counter() + SECONDS
        started = time.perf_counter()
        while time.perf_counter() < stop:
            ids = [uuid.uuid4().hex for _ in range(batch)]
            folded = Counter(f"acct-{(n + k) * 7919 % ACCOUNTS}" for k in range(batch))
            n += batch
            async with connection.transaction():
                await connection.execute(CLAIM, ids)
                if upsert:
                    await connection.execute(UPSERT, list(folded), period, list(folded.values()))
            events += batch
            transactions += 1
        return events / (time.perf_counter() - started), transactions
    finally:
        await connection.close()


async def _measure(bench: Bench, report: Report) -> None:
    name = f"bench_raw_{os.getpid()}"
    await create_database(bench.infra.postgres_admin_url, name)
    url = with_database(bench.infra.postgres_admin_url, name).replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(SCHEMA)
    finally:
        await connection.close()
    for batch in BATCHES:
        for upsert in (False, True):
            rate, transactions = await _rate(url, batch, upsert=upsert)
            what = "inbox claim + counter upsert" if upsert else "inbox claim only"
            report.add(
                SUITE,
                f"batched {what}, batch {batch:,}",
                rate,
                "events/s",
                batch=batch,
                accounts=ACCOUNTS,
                transactions=transactions,
                seconds=SECONDS,
                connections=1,
            )


def run(bench: Bench, report: Report) -> None:
    asyncio.run(_measure(bench, report))
