"""Rendering templates in a sandbox: tenants write them, so they must not reach Python."""

from __future__ import annotations

import html as html_lib
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.environment import Template as Compiled
from jinja2.sandbox import SandboxedEnvironment

from tangible_notifications.domain.errors import InvalidTemplate
from tangible_notifications.domain.model import SourceEvent, Template

_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
# why: huge loops or strings in a tenant template must not stall a consumer
_MAX_OUTPUT = 100_000


@lru_cache(maxsize=4096)
def _compiled(source: str, html: bool) -> Compiled:
    """Compiling costs far more than rendering: a batch reuses a tenant's few templates."""
    return (_HTML if html else _TEXT).from_string(source)


# The date an event is about, in order of preference: what `days_left` counts down to.
_DEADLINES = ("renewal_date", "ends_at", "expires_at")


def days_left(data: dict[str, Any], today: date) -> int | None:
    """Whole days from `today` to the event's renewal, trial end or expiry (negative once
    past), or None when it names none. Counted when the message is written, not taken from
    the event: a reminder announced late (renewal in 20 days, lead time 30) or held back
    (quiet hours, composing) must not repeat the lead time as if it were the truth."""
    for field in _DEADLINES:
        value = data.get(field)
        if not value:
            continue
        try:
            deadline = date.fromisoformat(str(value)[:10])
        except ValueError:
            continue
        return (deadline - today).days
    return None


def context_for(event: SourceEvent, now: datetime, impact: dict[str, Any] | None = None) -> dict[str, Any]:
    """What templates see. `data` is the event as it was published; `today` and `days_left`
    are computed from the service's clock when the message is rendered."""
    today = now.date()
    return {
        "event": {"id": event.id, "type": event.type, "time": event.time.isoformat() if event.time else None},
        "data": event.data,
        "account_id": event.account_id,
        "user_id": event.user_id,
        "impact": impact or {},
        "today": today.isoformat(),
        "days_left": days_left(event.data, today),
    }


def validate(template: Template) -> None:
    """Refuse a template that does not parse (422 with the line), before it is stored."""
    for name, source, environment in (
        ("title", template.title, _TEXT),
        ("body", template.body, _TEXT),
        ("html", template.html, _HTML),
    ):
        if source is None:
            continue
        try:
            environment.parse(source)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            raise InvalidTemplate(
                f"the {name} template does not parse: {error}", part=name, line=line
            ) from error


@lru_cache(maxsize=4096)
def uses_impact(template: Template) -> bool:
    """Whether rendering needs the account's impact report (fetched over HTTP, later)."""
    for source in (template.title, template.body, template.html or ""):
        try:
            if "impact" in meta.find_undeclared_variables(_TEXT.parse(source)):
                return True
        except TemplateError:
            continue
    return False


def render_strict(template: Template, context: dict[str, Any]) -> tuple[str, str, str]:
    """(title, text body, html body); raises InvalidTemplate (for previews)."""
    try:
        title = _compiled(template.title, False).render(context).strip()
        body = _compiled(template.body, False).render(context).strip()
        if template.html is not None:
            html = _compiled(template.html, True).render(context)
        else:
            html = text_to_html(title, body)
    except Exception as error:  # tenants write templates: a TypeError in a filter is theirs too
        raise InvalidTemplate(f"the template does not render: {error}") from error
    if max(len(title), len(body), len(html)) > _MAX_OUTPUT:
        raise InvalidTemplate("the rendered message is too long")
    return title[:500], body, html


def render(
    template: Template, event: SourceEvent, now: datetime, impact: dict[str, Any] | None = None
) -> tuple[str, str, str]:
    """(title, body, html) as of `now`; a template that fails renders as a plain fallback."""
    try:
        return render_strict(template, context_for(event, now, impact))
    except InvalidTemplate:
        title = f"Update about your account: {event.type.rsplit('.', 1)[-1].replace('_', ' ')}"
        return title, "", text_to_html(title, "")


def text_to_html(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{html_lib.escape(p)}</p>" for p in body.split("\n\n") if p.strip())
    return f"<html><body><h1>{html_lib.escape(title)}</h1>{paragraphs}</body></html>"
