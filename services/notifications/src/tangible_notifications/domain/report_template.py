"""A tenant's report template (logo, colours, section order, wording) and the report's
strings in each supported language; numbers and dates are formatted per locale by Babel in
the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from tangible_notifications.domain.report import SECTIONS

LOCALES = ("en", "de")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Impact report",
        "intro": "What {account} got from its license in {period}.",
        "summary": "Summary",
        "usage": "Usage",
        "value": "Value",
        "seats": "Seats",
        "milestones": "Milestones",
        "rewards": "Rewards",
        "credits": "Credits",
        "peers": "Compared with peers",
        "unused": "Benefits left on the table",
        "feature": "Feature",
        "this_period": "This period",
        "previous": "Previous period",
        "year_earlier": "A year earlier",
        "change": "Change",
        "metric": "Outcome",
        "purchased": "Purchased",
        "assigned": "Assigned",
        "active": "Active",
        "reached": "reached",
        "in_progress": "in progress",
        "granted": "Credits granted this period",
        "balance": "Balance",
        "expiring": "{amount} credits expire on {date}",
        "no_expiring": "No credit expires soon.",
        "peer": "More active than {percent} of teams on {plan} ({feature}).",
        "no_peer": "Not enough teams on the plan to compare with yet.",
        "none_unused": "Every licensed feature was used.",
        "unused_line": "{feature}: licensed, not used this period",
        "usage_chart": "Usage trend per feature",
        "value_chart": "Value over time",
        "headline_value": "≈ {value} {metric}",
        "headline_use": "{total} {feature}",
        "nothing": "No usage recorded in this period.",
        "missing": "Some figures could not be gathered: {sources}.",
        "footer": "Generated {date} · read-only copy",
    },
    "de": {
        "title": "Wirkungsbericht",
        "intro": "Was {account} im Zeitraum {period} von seiner Lizenz hatte.",
        "summary": "Überblick",
        "usage": "Nutzung",
        "value": "Nutzen",
        "seats": "Plätze",
        "milestones": "Meilensteine",
        "rewards": "Prämien",
        "credits": "Guthaben",
        "peers": "Im Vergleich",
        "unused": "Ungenutzte Vorteile",
        "feature": "Funktion",
        "this_period": "Dieser Zeitraum",
        "previous": "Vorheriger Zeitraum",
        "year_earlier": "Vor einem Jahr",
        "change": "Veränderung",
        "metric": "Ergebnis",
        "purchased": "Gekauft",
        "assigned": "Zugewiesen",
        "active": "Aktiv",
        "reached": "erreicht",
        "in_progress": "in Arbeit",
        "granted": "In diesem Zeitraum gutgeschrieben",
        "balance": "Guthabenstand",
        "expiring": "{amount} Punkte verfallen am {date}",
        "no_expiring": "In nächster Zeit verfällt kein Guthaben.",
        "peer": "Aktiver als {percent} der Teams mit {plan} ({feature}).",
        "no_peer": "Noch zu wenige Teams im Tarif für einen Vergleich.",
        "none_unused": "Jede lizenzierte Funktion wurde genutzt.",
        "unused_line": "{feature}: lizenziert, in diesem Zeitraum nicht genutzt",
        "usage_chart": "Nutzungsverlauf je Funktion",
        "value_chart": "Nutzen im Zeitverlauf",
        "headline_value": "≈ {value} {metric}",
        "headline_use": "{total} {feature}",
        "nothing": "In diesem Zeitraum wurde keine Nutzung erfasst.",
        "missing": "Einige Zahlen waren nicht verfügbar: {sources}.",
        "footer": "Erstellt am {date} · schreibgeschützte Kopie",
    },
}


@dataclass(frozen=True)
class ReportTemplate:
    """Per tenant; every field optional. `wording` is locale → key → text (keys of STRINGS),
    so a vendor can rename a section or rewrite the intro in each language."""

    logo: str | None = None  # a data: URL (PNG or JPEG), embedded in HTML and PDF
    primary_color: str = "#1F4E79"
    accent_color: str = "#2E86AB"
    sections: tuple[str, ...] = SECTIONS
    wording: dict[str, dict[str, str]] = field(default_factory=dict)
    default_locale: str = "en"

    def text(self, locale: str, key: str, **values: object) -> str:
        base = STRINGS.get(locale, STRINGS["en"])
        raw = self.wording.get(locale, {}).get(key) or base.get(key) or STRINGS["en"][key]
        try:
            return raw.format(**values)
        except (KeyError, IndexError, ValueError):
            # a vendor's wording naming a placeholder we do not have: shown as written
            return raw


DEFAULT_TEMPLATE = ReportTemplate()
