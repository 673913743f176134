"""rewards' HTTP API: rules (admin), account reads, credits."""

from fastapi import APIRouter

from tangible_rewards.entrypoints.api import accounts, ledger, rules

router = APIRouter()
router.include_router(rules.router)
router.include_router(accounts.router)
router.include_router(ledger.router)
