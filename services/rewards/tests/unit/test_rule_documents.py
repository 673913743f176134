"""The milestone rule documents state the combinations `domain.model.validate` accepts:
over a grid of repeat, repeat_period, window and streak settings, what the document calls
valid the server takes, and what it calls invalid the server refuses."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
import pytest
from pydantic import TypeAdapter, ValidationError

from tangible_rewards.domain.errors import InvalidRule
from tangible_rewards.domain.model import MilestoneRule
from tangible_rewards.entrypoints.api.rules import _definition
from tangible_rewards.entrypoints.schemas.rules import MilestoneRuleCreate

RULES: TypeAdapter[Any] = TypeAdapter(MilestoneRuleCreate)
WINDOWS = ["day", "week", "month", "quarter", "year"]
PERIODS = [None, *WINDOWS]
MODES = ["consecutive_days", "days_in_weeks"]
PARAMS: dict[str, list[dict[str, Any]]] = {
    "usage_threshold": [
        {"usage_type": "x", "target": 10, **({"window": w} if w else {})}
        for w in [None, "lifetime", *PERIODS[1:]]
    ],
    "streak": [
        {"mode": mode, "days": days, **({"weeks": weeks} if weeks is not ... else {})}
        for mode, days, weeks in itertools.product(
            ["consecutive_days", "days_in_weeks"], [3, 8], [..., None, 4]
        )
    ],
    "adoption": [{"percent": 50, "window_days": 30}],
    "anniversary": [{"years": 1}],
    "time_to_value": [{"usage_type": "x", "days": 30}],
}


def _server_accepts(body: dict[str, Any]) -> bool:
    try:
        definition = _definition(RULES.validate_python(body))
        MilestoneRule(id="r", key=body["key"], version=1, **vars(definition))
    except (ValidationError, InvalidRule):
        return False
    return True


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_the_document_and_the_server_agree(kind: str) -> None:
    document = jsonschema_rs.validator_for(RULES.json_schema())
    disagree = []
    for params, repeat, period in itertools.product(PARAMS[kind], [None, "once", "per_period"], PERIODS):
        body: dict[str, Any] = {"key": "k", "name": "N", "kind": kind, "params": params}
        body["reward"] = {"kind": "credits", "credits": "5"}
        if repeat:
            body["repeat"] = repeat
        if period:
            body["repeat_period"] = period
        if _server_accepts(body) != document.is_valid(body):
            disagree.append((body, _server_accepts(body)))
    assert not disagree, disagree[:5]


@pytest.mark.parametrize(
    ("reward", "valid"),
    [
        ({"kind": "credits", "credits": "5"}, True),
        ({"kind": "credits"}, False),
        ({"kind": "credits", "credits": None}, False),
        ({"kind": "support_level", "support_level": "gold", "duration_days": 30}, True),
        ({"kind": "support_level", "support_level": "gold"}, False),
        ({"kind": "early_access", "feature_key": "f", "duration_days": 30}, True),
        ({"kind": "early_access", "duration_days": 30}, False),
        ({"kind": "custom", "name": "A mug"}, True),
        ({"kind": "custom", "name": None}, False),
        ({"kind": "custom", "name": "A mug", "credits": "3", "support_level": "gold"}, True),
        ({"kind": "other", "name": "x"}, False),
    ],
)
def test_rewards_need_the_fields_of_their_kind(reward: dict[str, Any], valid: bool) -> None:
    body = {"key": "k", "name": "N", "kind": "anniversary", "params": {"years": 1}, "reward": reward}
    assert jsonschema_rs.validator_for(RULES.json_schema()).is_valid(body) is valid
    assert _server_accepts(body) is valid
