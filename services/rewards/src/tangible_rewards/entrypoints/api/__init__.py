"""rewards' HTTP API: rules (admin), account reads, credits, the reward catalogue."""

from fastapi import APIRouter

from tangible_rewards.entrypoints.api import accounts, book, catalogue, ledger, rules

router = APIRouter()
router.include_router(rules.router)
router.include_router(accounts.router)
router.include_router(ledger.router)
router.include_router(catalogue.router)
router.include_router(book.router)
