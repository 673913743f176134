"""Rendering templates in a sandbox: tenants write them, so they must not reach Python."""

from __future__ import annotations

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from tangible_notifications.domain.model import SourceEvent, Template

_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(template: Template, event: SourceEvent) -> tuple[str, str]:
    """(title, body); a template that fails renders as a plain fallback, never an error."""
    context = {
        "event": {"id": event.id, "type": event.type},
        "data": event.data,
        "account_id": event.account_id,
    }
    try:
        return (
            _ENVIRONMENT.from_string(template.title).render(context),
            _ENVIRONMENT.from_string(template.body).render(context),
        )
    except TemplateError:
        return (f"Update about your account: {event.type.rsplit('.', 1)[-1].replace('_', ' ')}", "")
