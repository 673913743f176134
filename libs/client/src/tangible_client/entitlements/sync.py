"""Entitlements: AsyncEntitlements for code without asyncio. The view is filled and kept
fresh on a private event loop thread; a check of an account already in the view is answered
in the caller's thread from memory, without touching that loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from tangible_client.entitlements.client import AsyncEntitlements
from tangible_client.entitlements.model import Check

T = TypeVar("T")
MARGIN = 0.02  # thread hand-over on top of the network timeout


class Entitlements:
    """Takes AsyncEntitlements' arguments; blocks in the constructor until the accounts asked
    for up front are loaded (or failed to)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tangible-entitlements", daemon=True
        )
        self._thread.start()
        self.sdk: AsyncEntitlements = self._call(self._build(base_url, options))
        self._accounts = self.sdk.view.accounts  # the same dict for the SDK's life
        self._clock = self.sdk.clock
        self._closed = False

    async def _build(self, base_url: str, options: dict[str, Any]) -> AsyncEntitlements:
        sdk = AsyncEntitlements(base_url, **options)
        await sdk.start()
        return sdk

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def check(self, account_id: str, feature_key: str) -> Check:
        """From memory when the account is in the view; else waits at most `timeout` for it."""
        # the hot path, inlined (each call level costs as much as the lookup itself)
        account = self._accounts.get(account_id)
        if account is not None and self.sdk.fresh and self._clock() < account.until:
            hit = account.current.get(feature_key)
            if hit is not None:
                return hit
        return self._check(account_id, feature_key)

    def _check(self, account_id: str, feature_key: str) -> Check:
        found = self.sdk.check_cached(account_id, feature_key)
        if found is not None:
            return found
        future = asyncio.run_coroutine_threadsafe(self.sdk.check(account_id, feature_key), self._loop)
        try:
            return future.result(self.sdk.timeout + MARGIN)
        except concurrent.futures.TimeoutError:  # the loop was busy: answer as on a timeout
            future.cancel()
            return self.sdk._no_value(account_id, feature_key, None)

    def entitlements(self, account_id: str) -> list[Check]:
        return self._call(self.sdk.entitlements(account_id))

    def load(self, account_ids: Iterable[str]) -> None:
        self._call(self.sdk.load(list(account_ids)))

    def report_usage(
        self, account_id: str, feature_key: str, quantity: float = 1.0, **options: Any
    ) -> Check | None:
        return self._call(self.sdk.report_usage(account_id, feature_key, quantity, **options))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self.sdk.aclose())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
