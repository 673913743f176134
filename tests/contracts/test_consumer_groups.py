"""The list of consumer groups in `tangible_schemas.consumers` (from which the AsyncAPI
document's receive operations and dead-letter channels are built) names every group the
services consume with, and nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

from tangible_rewards.entrypoints.consumers import ENTITLEMENT_EVENTS
from tangible_schemas.consumers import CONSUMER_GROUPS

SERVICES = Path(__file__).resolve().parents[2] / "services"


def _defined_groups() -> dict[str, str]:
    """`<X>_CONSUMER = "<group>"` constants, the names every `ConsumerRunner` is given."""
    found: dict[str, str] = {}
    for path in SERVICES.glob("*/src/**/*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.endswith("_CONSUMER")
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found[node.value.value] = path.relative_to(SERVICES).parts[0]
    return found


def _runner_names() -> list[str]:
    """What each `ConsumerRunner(name=...)` call passes: a constant or a helper's parameter."""
    names: list[str] = []
    for path in SERVICES.glob("*/src/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ConsumerRunner":
                for keyword in node.keywords:
                    if keyword.arg == "name":
                        names.append(ast.unparse(keyword.value))
    return names


def test_every_group_a_service_defines_is_listed() -> None:
    defined = _defined_groups()
    listed = {group.name: group.service for group in CONSUMER_GROUPS}
    assert defined == listed


def test_every_consumer_runner_is_named_by_a_listed_constant() -> None:
    names = _runner_names()
    assert names, "no ConsumerRunner found: the scan no longer matches the code"
    assert all(name == "name" or name.endswith("_CONSUMER") for name in names), names


def test_the_listed_event_types_are_the_ones_consumed() -> None:
    listed = {group.name: group for group in CONSUMER_GROUPS}
    assert listed["rewards-entitlements"].events == ENTITLEMENT_EVENTS
