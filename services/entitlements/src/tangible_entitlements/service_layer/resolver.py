"""Everything needed to evaluate entitlements of a set of accounts, loaded in a few queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from tangible_entitlements.domain import trials
from tangible_entitlements.domain.entitlement import Entitlement, Grant, evaluate_license
from tangible_entitlements.domain.model import CatalogItem, Feature, License
from tangible_entitlements.service_layer.ports import UnitOfWork


class EntitlementResolver:
    def __init__(
        self,
        licenses: Mapping[tuple[str, str], License],
        features: Mapping[str, list[Feature]],
        items: Mapping[tuple[str, str, int], CatalogItem],
        grants: Mapping[tuple[str, str], list[Grant]],
    ) -> None:
        self._licenses = licenses
        self._features = {(tenant, f.key): f for tenant, fs in features.items() for f in fs}
        self._items = items
        self._grants = grants

    @classmethod
    async def load(
        cls, uow: UnitOfWork, licenses: Iterable[License], features: Mapping[str, list[Feature]]
    ) -> EntitlementResolver:
        by_account = {(lic.tenant_id, lic.account_id): lic for lic in licenses}
        wanted = {(lic.tenant_id, k, v) for lic in by_account.values() for k, v in trials.item_keys(lic)}
        items = await uow.catalog.items(wanted)
        grants = await uow.grants.for_accounts(list(by_account))
        return cls(by_account, features, items, grants)

    def feature(self, tenant_id: str, feature_key: str) -> Feature | None:
        return self._features.get((tenant_id, feature_key))

    def license(self, tenant_id: str, account_id: str) -> License | None:
        return self._licenses.get((tenant_id, account_id))

    def evaluate(
        self, tenant_id: str, account_id: str, feature: Feature, *, usage: float, at: datetime
    ) -> Entitlement:
        return evaluate_license(
            feature,
            license=self._licenses.get((tenant_id, account_id)),
            items=self._items,
            grants=self._grants.get((tenant_id, account_id), []),
            usage=usage,
            at=at,
        )

    def item(self, tenant_id: str, key: str, version: int) -> CatalogItem | None:
        return self._items.get((tenant_id, key, version))
