"""The local view: per account, its answers now and at each moment they change by themselves
(grant and trial ends, period roll-overs), as the server computed them. Pure and clock-free:
callers pass `now` (epoch seconds), so tests drive time by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from tangible_client.entitlements.model import Check, check_from_json

INTERNED_MAX = 200_000  # distinct answers kept for sharing; past that the table starts over


class Interner:
    """One Check object per distinct answer: most accounts share most of theirs (same plan,
    same features), which divides the view's memory by the number of sharers."""

    def __init__(self) -> None:
        self._table: dict[bytes, Check] = {}

    def __call__(self, data: dict[str, Any]) -> Check:
        key = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        found = self._table.get(key)
        if found is None:
            if len(self._table) >= INTERNED_MAX:
                self._table.clear()
            found = self._table[key] = check_from_json(data)
        return found


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


class AccountView:
    """One account. `current` is the segment in force until `until` (epoch seconds)."""

    __slots__ = ("account_id", "as_of", "current", "index", "missing", "position", "segments", "starts",
                 "until", "valid_until")  # fmt: skip

    def __init__(
        self, data: dict[str, Any], intern: Callable[[dict[str, Any]], Check] = check_from_json
    ) -> None:
        self.account_id: str = data["account_id"]
        self.position: str = data.get("position", "")
        self.as_of: float = _epoch(data["as_of"])
        self.valid_until: float = _epoch(data["valid_until"])
        self.missing: bool = bool(data.get("missing"))
        self.starts: list[float] = [_epoch(s["start"]) for s in data.get("segments", [])]
        self.segments: list[dict[str, Check]] = [
            {e["feature_key"]: intern(e) for e in s["entitlements"]} for s in data.get("segments", [])
        ]
        self.index = 0
        self.current: dict[str, Check] = self.segments[0] if self.segments else {}
        self.until: float = self.starts[1] if len(self.starts) > 1 else float("inf")

    def advance(self, now: float) -> None:
        """Move to the segment in force at `now` (past the last one: stays on it)."""
        index = self.index
        while index + 1 < len(self.starts) and self.starts[index + 1] <= now:
            index += 1
        self.index = index
        self.current = self.segments[index] if self.segments else {}
        # past the last start nothing changes by itself: `expired` tells when to re-read
        self.until = self.starts[index + 1] if index + 1 < len(self.starts) else float("inf")

    def expired(self, now: float) -> bool:
        """Past what the server said; the account should be read again."""
        return now >= self.valid_until


def _newer(incoming: str, held: str) -> bool:
    """Positions of one server process compare by sequence; others always win."""
    a_epoch, _, a_seq = incoming.partition("-")
    b_epoch, _, b_seq = held.partition("-")
    if a_epoch != b_epoch or not a_seq.isdigit() or not b_seq.isdigit():
        return True
    return int(a_seq) >= int(b_seq)


class LocalView:
    def __init__(self) -> None:
        self.accounts: dict[str, AccountView] = {}
        self._intern = Interner()

    def apply(self, data: dict[str, Any], now: float) -> AccountView | None:
        """Put an account's answers in the view (older positions than held are ignored)."""
        held = self.accounts.get(data["account_id"])
        if held is not None and not _newer(data.get("position", ""), held.position):
            return None
        account = AccountView(data, self._intern)
        account.advance(now)
        self.accounts[account.account_id] = account  # one assignment: readers see old or new
        return account

    def lookup(self, account_id: str, feature_key: str, now: float) -> Check | None:
        account = self.accounts.get(account_id)
        if account is None:
            return None
        if now >= account.until:
            account.advance(now)
        return account.current.get(feature_key)

    def expired(self, now: float) -> list[str]:
        return [a.account_id for a in self.accounts.values() if a.expired(now)]

    def add_usage(self, account_id: str, feature_key: str, quantity: float, now: float) -> Check | None:
        """Optimistic usage: count `quantity` now, until the server's next value replaces it."""
        account = self.accounts.get(account_id)
        if account is None:
            return None
        account.advance(now)
        found = account.current.get(feature_key)
        if found is None or found.kind != "metered":
            return found
        usage = found.usage + quantity
        limit = found.limit
        remaining = None if limit is None else max(limit - usage, 0.0)
        overage = 0.0 if limit is None else max(usage - limit, 0.0)
        within = limit is None or usage < limit or found.limit_type == "soft"
        updated = dataclasses.replace(
            found,
            usage=usage,
            remaining=remaining,
            overage=overage,
            has_access=bool(found.sources) and within,
            optimistic=True,
        )
        segment = dict(account.current)
        segment[feature_key] = updated
        account.segments[account.index] = segment
        account.current = segment
        return updated
