"""Errors of the notifications domain."""

from __future__ import annotations

from tangible_runtime.domain import NotFound, Rejected


class RuleNotFound(NotFound):
    code = "rule-not-found"


class InvalidTemplate(Rejected):
    code = "invalid-template"
