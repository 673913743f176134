"""Which consumed events can change anything here, decided before they are decoded."""

from __future__ import annotations

from collections.abc import Callable

from tangible_notifications.domain.defaults import CSM_SIGNALS
from tangible_notifications.domain.model import type_matches
from tangible_notifications.service_layer.handlers.notify import TERM_EVENTS
from tangible_notifications.service_layer.ports import UnitOfWork

ALWAYS_WANTED = frozenset((*TERM_EVENTS, *CSM_SIGNALS))


class RuleTriage:
    """An event matters when an enabled rule of its tenant may match its type, when it is a
    customer-success signal (those always reach the CSM channel), or when it carries a
    license term (remembered for 'this term' wording). Everything else, most of the
    entitlements topic (a usage_aggregated per counter moved), needs no inbox claim, no
    decoding and no transaction: the consumer skips it. The patterns are read again before
    every batch, as the handler reads the rules themselves, so a rule applies from the first
    batch consumed after it was saved."""

    def __init__(self, new_uow: Callable[[], UnitOfWork]) -> None:
        self._new_uow = new_uow
        self._patterns: dict[str, set[str]] = {}
        self._decided: dict[tuple[str, str], bool] = {}  # (tenant, type) → wanted, per refresh

    async def refresh(self) -> None:
        async with self._new_uow() as uow:
            patterns = await uow.rules.event_patterns()
        if patterns != self._patterns:
            self._patterns = patterns
            self._decided = {}

    def wants(self, event_type: str, tenant_id: str) -> bool:
        decided = self._decided.get((tenant_id, event_type))
        if decided is None:
            decided = event_type in ALWAYS_WANTED or any(
                type_matches(event_type, pattern) for pattern in self._patterns.get(tenant_id, ())
            )
            self._decided[(tenant_id, event_type)] = decided
        return decided
