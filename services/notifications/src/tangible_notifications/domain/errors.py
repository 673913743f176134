"""Errors of the notifications domain."""

from __future__ import annotations

from tangible_runtime.domain import Conflict, NotFound, Rejected


class RuleNotFound(NotFound):
    code = "rule-not-found"


class ChannelNotFound(NotFound):
    code = "channel-not-found"


class TemplateNotFound(NotFound):
    code = "template-not-found"


class DeliveryNotFound(NotFound):
    code = "delivery-not-found"


class InboxItemNotFound(NotFound):
    code = "inbox-item-not-found"


class InvalidTemplate(Rejected):
    code = "invalid-template"


class InvalidPreference(Rejected):
    code = "invalid-preference"


class TargetRefused(Rejected):
    """A webhook URL that points into private, loopback or link-local space (SSRF guard)."""

    code = "target-refused"


class SecretsUnavailable(Rejected):
    code = "secrets-key-missing"


class ChannelDisabled(Conflict):
    code = "channel-disabled"


class ChannelHasNoSecret(Conflict):
    """Only webhook channels sign what they send; an email channel has no secret to rotate."""

    code = "channel-has-no-secret"
