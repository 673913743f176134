"""Read side: progress toward each enabled milestone."""

from __future__ import annotations

from tangible_rewards.domain.model import Progress
from tangible_rewards.service_layer.unit_of_work import UnitOfWork


async def account_progress(uow: UnitOfWork, *, tenant_id: str, account_id: str) -> list[Progress]:
    async with uow:
        rules = (await uow.rules.enabled_for([tenant_id])).get(tenant_id, [])
        values = await uow.progress.for_account(tenant_id, account_id)
    return [
        Progress(rule, values.get((rule.id, "lifetime"), 0.0)) for rule in sorted(rules, key=lambda r: r.key)
    ]
