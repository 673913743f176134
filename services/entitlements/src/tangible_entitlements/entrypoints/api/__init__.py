"""entitlements' HTTP API: catalog and licenses (admin), checks and reports (read)."""

from fastapi import APIRouter

from tangible_entitlements.entrypoints.api import accounts, catalog, checks, licenses

router = APIRouter(prefix="/v1")
for module in (catalog, licenses, accounts, checks):
    router.include_router(module.router)
