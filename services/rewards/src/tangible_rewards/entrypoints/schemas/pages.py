"""Pages of rewards' lists: the shared `Page[T]`, named for the document.

The ledger and rewards pages predate the shared page: their items keep their names on the
wire (`entries`, `rewards`) and they say whose account they list.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from tangible_rewards.entrypoints.schemas.accounts import LedgerEntryRead, RewardRead
from tangible_rewards.entrypoints.schemas.rules import MilestoneRuleRead
from tangible_runtime.paging import Page


class MilestoneRuleList(Page[MilestoneRuleRead]): ...


class LedgerPage(Page[LedgerEntryRead]):
    model_config = ConfigDict(validate_by_name=True)
    items: list[LedgerEntryRead] = Field(alias="entries")
    account_id: str
    unit: str


class RewardList(Page[RewardRead]):
    model_config = ConfigDict(validate_by_name=True)
    items: list[RewardRead] = Field(alias="rewards")
    account_id: str
