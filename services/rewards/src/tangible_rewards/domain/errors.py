"""Errors of the rewards domain."""

from __future__ import annotations

from tangible_runtime.domain import Conflict, NotFound


class RuleNotFound(NotFound):
    code = "rule-not-found"


class RuleAlreadyExists(Conflict):
    code = "rule-already-exists"
