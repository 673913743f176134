"""Built-in plain-language templates, used when neither the rule nor the tenant has one."""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date

from tangible_notifications.domain.model import Template

RENEWAL_DUE = "tangible.entitlements.v1.renewal_due_announced"
RENEWAL_AT_RISK = "tangible.entitlements.v1.renewal_risk_detected"
UPGRADE_SUGGESTED = "tangible.entitlements.v1.upgrade_suggested"
QUARTERLY_SUMMARY = "tangible.notifications.quarterly_summary"
DIGEST = "tangible.notifications.digest"
ENDPOINT_DISABLED = "tangible.notifications.v1.endpoint_disabled"
CSM_SIGNALS = (RENEWAL_AT_RISK, UPGRADE_SUGGESTED)

DEFAULTS: dict[str, Template] = {
    "tangible.entitlements.v1.threshold_crossed": Template(
        "You have used {{ data.threshold_percent }} % of your {{ data.feature_key }} allowance",
        "Your team has used {{ data.usage | int }} of {{ data.limit | int }} this period.",
    ),
    "tangible.entitlements.v1.threshold_recovered": Template(
        "Your {{ data.feature_key }} allowance is back under {{ data.threshold_percent }} %",
        "Usage is now {{ data.usage | int }} of {{ data.limit | int }}.",
    ),
    RENEWAL_DUE: Template(
        # days_left, not data.lead_days: a late or held reminder is nearer than its lead time
        "{% if days_left > 1 %}Your renewal is {{ days_left }} days away"
        "{% elif days_left == 1 %}Your renewal is tomorrow"
        "{% elif days_left == 0 %}Your renewal is today"
        "{% else %}Your renewal date has passed{% endif %}",
        "Your license renews on {{ data.renewal_date }}.\n\n{{ impact.note }}"
        "{% if impact.whats_new is defined and impact.whats_new %}\n\nNew when you renew:\n"
        "{% for line in impact.whats_new %}• {{ line }}\n{% endfor %}{% endif %}",
    ),
    QUARTERLY_SUMMARY: Template(
        "Your quarter in review: {{ data.quarter }}",
        "Here is what your team achieved from {{ data.from }} to {{ data.to }}.\n\n{{ impact.note }}"
        "{% if impact.report is defined and impact.report.headline %}\n\n"
        "{% for line in impact.report.headline %}• {{ line }}\n{% endfor %}{% endif %}"
        "{% if impact.report is defined and impact.report.url %}\n"
        "Your full report, to share with your leadership (no login needed): {{ impact.report.url }}\n"
        "PDF: {{ impact.report.pdf_url }}{% endif %}",
    ),
    "tangible.entitlements.v1.trial_started": Template(
        "Your trial of {{ data.target_key }} has started",
        "It runs until {{ data.ends_at[:10] }}.",
    ),
    "tangible.entitlements.v1.trial_ending_soon_announced": Template(
        "Your trial of {{ data.target_key }} "
        "{% if days_left > 1 %}ends in {{ days_left }} days{% elif days_left == 1 %}ends tomorrow"
        "{% elif days_left == 0 %}ends today{% else %}has ended{% endif %}",
        "Convert it to keep what you have been using.",
    ),
    "tangible.entitlements.v1.grant_applied": Template(
        "You now have {{ data.feature_key }}",
        "{% if data.expires_at %}Until {{ data.expires_at[:10] }}.{% endif %}",
    ),
    RENEWAL_AT_RISK: Template(
        "Renewal at risk: account {{ account_id }}",
        "Key usage fell {{ data.decline_percent | round | int }} % before the renewal on "
        "{{ data.renewal_date }}.",
    ),
    UPGRADE_SUGGESTED: Template(
        "Upgrade suggested: account {{ account_id }}",
        "Observed usage fits {{ data.suggestion_kind }} '{{ data.suggestion_key }}' ({{ data.reason }}).",
    ),
    "tangible.rewards.v1.milestone_reached": Template(
        "Milestone reached: {{ data.milestone_name }}", "Well done, your team reached a milestone."
    ),
    "tangible.rewards.v1.reward_granted": Template(
        "You earned a reward{% if data.name %}: {{ data.name }}{% endif %}",
        "{% if data.credits %}{{ data.credits }} credits were added to your balance.{% endif %}",
    ),
    "tangible.rewards.v1.credits_expiry_announced": Template(
        "{{ data.amount }} credits expire soon", "They expire on {{ data.expires_at[:10] }}."
    ),
    # a vendor's fulfilment rule sends it to a webhook; in an inbox the customer reads a receipt
    "tangible.rewards.v1.item_redeemed": Template(
        "You redeemed {{ data.item_name }}",
        "{{ data.price }} {{ data.unit }} were spent on {{ data.item_name }}; "
        "{{ data.balance_after }} {{ data.unit }} left.",
    ),
    DIGEST: Template(
        "Your {{ data.period }} digest: {{ data['items'] | length }} updates",
        "{% for item in data['items'] %}- {{ item.title }}\n{% endfor %}",
    ),
    ENDPOINT_DISABLED: Template(
        "Webhook endpoint disabled: {{ data.name }}",
        "We stopped sending to {{ data.url }} ({{ data.reason }}). Fix it and enable it again.",
    ),
}

# The built-in templates of the messages written from the account's figures, in the other
# languages a reader can choose (the account's or user's preference, as the report): used in
# place of the English default; a tenant's own template is used as it wrote it.
LOCALISED: dict[str, dict[str, Template]] = {
    "de": {
        RENEWAL_DUE: Template(
            "{% if days_left > 1 %}Ihre Verlängerung ist in {{ days_left }} Tagen"
            "{% elif days_left == 1 %}Ihre Verlängerung ist morgen"
            "{% elif days_left == 0 %}Ihre Verlängerung ist heute"
            "{% else %}Ihr Verlängerungsdatum ist vorbei{% endif %}",
            "Ihre Lizenz verlängert sich am {{ impact.dates.renewal_date }}.\n\n{{ impact.note }}"
            "{% if impact.whats_new is defined and impact.whats_new %}\n\nNeu bei Ihrer Verlängerung:\n"
            "{% for line in impact.whats_new %}• {{ line }}\n{% endfor %}{% endif %}",
        ),
        QUARTERLY_SUMMARY: Template(
            "Ihr Quartal im Rückblick: {{ data.quarter }}",
            "Das hat Ihr Team vom {{ impact.dates.from }} bis zum {{ impact.dates.to }} erreicht."
            "\n\n{{ impact.note }}"
            "{% if impact.report is defined and impact.report.headline %}\n\n"
            "{% for line in impact.report.headline %}• {{ line }}\n{% endfor %}{% endif %}"
            "{% if impact.report is defined and impact.report.url %}\n"
            "Ihr vollständiger Bericht, zum Weitergeben an Ihre Geschäftsleitung (ohne Anmeldung): "
            "{{ impact.report.url }}\n"
            "PDF: {{ impact.report.pdf_url }}{% endif %}",
        ),
    },
}

# the event's dates the built-in templates show (`impact.dates.*`), as the reader writes them
_DATES = ("renewal_date", "from", "to")


def local_dates(data: dict[str, Any], locale: str) -> dict[str, str]:
    """ "2026-12-26" → "26.12.2026" in German; a value that is no date is shown as it is."""
    dates: dict[str, str] = {}
    for key in _DATES:
        value = str(data.get(key) or "")
        try:
            dates[key] = format_date(date.fromisoformat(value[:10]), format="medium", locale=locale)
        except ValueError:
            dates[key] = value
    return dates


def localised(template: Template, event_type: str, locale: str) -> Template:
    """The built-in template in the reader's language; any other template as it is."""
    if template != default_template(event_type):
        return template
    return LOCALISED.get(locale, {}).get(event_type, template)


CATEGORIES: dict[str, str] = {
    "tangible.entitlements.v1.threshold_crossed": "usage",
    "tangible.entitlements.v1.threshold_recovered": "usage",
    RENEWAL_DUE: "renewal",
    QUARTERLY_SUMMARY: "summary",
    RENEWAL_AT_RISK: "signals",
    UPGRADE_SUGGESTED: "signals",
    ENDPOINT_DISABLED: "operations",
}


def default_template(event_type: str) -> Template:
    words = event_type.rsplit(".", 1)[-1].replace("_", " ")
    return DEFAULTS.get(event_type, Template(f"Update about your account: {words}", ""))
