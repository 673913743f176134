"""The impact report's pure parts: periods, figures, the peer rule, wording and locales,
share-link tokens, and every renderer on a sample report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tangible_notifications.adapters import report_documents as documents
from tangible_notifications.domain.defaults import QUARTERLY_SUMMARY, RENEWAL_DUE, default_template, localised
from tangible_notifications.domain.impact import FeatureUsage, ImpactFacts, RewardsSummary, UsageReport, note
from tangible_notifications.domain.model import Template
from tangible_notifications.domain.periods import (
    InvalidPeriod,
    PeriodKind,
    last_complete_quarter,
    parse_period,
)
from tangible_notifications.domain.report_sample import sample_report
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.report_view import Formatter, peer_sentence, view
from tangible_notifications.domain.sharing import ShareLink, ShareSigner
from tangible_notifications.entrypoints.api.reports import as_json
from tangible_notifications.service_layer.ports import RawSources
from tangible_notifications.service_layer.reports import assemble

NOW = datetime(2026, 10, 2, 9, tzinfo=UTC)  # fixed date: pure functions, no clock


def test_periods_and_what_they_compare_with() -> None:
    q3 = parse_period("2026-Q3")
    assert (q3.kind, q3.start, q3.end) == (PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30))
    assert (q3.previous().start, q3.previous().end) == (date(2026, 4, 1), date(2026, 6, 30))
    assert q3.year_earlier().key == "2025-Q3"
    february = parse_period("2028-02")
    assert february.end == date(2028, 2, 29) and february.year_earlier().end == date(2027, 2, 28)
    custom = parse_period("2026-07-15..2026-08-14")
    assert custom.previous().end == date(2026, 7, 14) and custom.previous().days == custom.days
    assert last_complete_quarter(date(2026, 1, 5)).key == "2025-Q4"
    for bad in ("2026-13", "2026-Q5", "2026-09-30..2026-07-01", "2025-01-01..2026-06-01", "soon"):
        with pytest.raises(InvalidPeriod):
            parse_period(bad)


def _raw(cohort: dict[str, object] | None, year_earlier: dict[str, Any] | None = None) -> RawSources:
    usage = {
        "features": [
            {
                "feature_key": "reports",
                "name": "Reports",
                "total": 40,
                "impact": {"metric": "hours saved", "per_unit": 0.25, "value": 10},
                "cohort": cohort,
            }
        ],
        "impact": [{"metric": "hours saved", "value": 10}],
    }
    previous = {
        "features": [{"feature_key": "reports", "total": 20}],
        "impact": [{"metric": "hours saved", "value": 5}],
    }
    return RawSources(
        usage, previous, year_earlier, None, None, None, None, [], {"total": "0", "buckets": []}, []
    )


def test_figures_trend_and_the_peer_rule() -> None:
    period = parse_period("2026-Q3")
    cohort: dict[str, object] = {"plan_key": "growth", "plan_name": "Growth", "percentile": 80}
    report = assemble(_raw(cohort), "acct", period, NOW)
    assert report.features[0].change == 100.0 and report.value[0].change == 100.0
    assert report.peer is not None and report.peer.percentile == 80
    # readers see the plan's name, not its key
    assert (
        peer_sentence(report, ReportTemplate(), "en") == "More active than 80 % of teams on Growth (Reports)."
    )
    assert peer_sentence(report, ReportTemplate(), "de") == "Aktiver als 80 % der Teams mit Growth (Reports)."
    # an entitlements that does not give the name yet: the key
    unnamed = assemble(_raw({"plan_key": "growth", "percentile": 80}), "acct", period, NOW)
    assert (
        peer_sentence(unnamed, ReportTemplate(), "en")
        == "More active than 80 % of teams on growth (Reports)."
    )
    # entitlements withholds the percentile under k: no comparison anywhere
    withheld = assemble(_raw(None), "acct", period, NOW)
    assert withheld.peer is None
    assert "More active than" not in documents.html(withheld, ReportTemplate(), "en")


def test_the_year_earlier_figure_and_the_change_over_the_year() -> None:
    period = parse_period("2026-Q3")
    year_earlier = {"features": [{"feature_key": "reports", "total": 32}], "impact": []}
    report = assemble(_raw(None, year_earlier), "acct", period, NOW)
    [reports] = report.features
    assert (reports.total, reports.year_earlier) == (40, 32)
    assert reports.change_year == 25.0  # 40 after 32
    [row] = next(s for s in view(report, ReportTemplate(), "en").sections if s.key == "usage").rows
    assert row == ("Reports", "40", "20", "32", "+100 %")
    [read] = as_json(report, ReportTemplate(), "en").features
    assert (read.year_earlier, read.change_year_percent) == (32, 25.0)
    # a year earlier without data: no figure, no change
    empty = assemble(_raw(None, {"features": [{"feature_key": "reports", "total": 0}]}), "acct", period, NOW)
    assert empty.features[0].year_earlier is None and empty.features[0].change_year is None


def test_the_impact_note_compares_with_peers_only_where_the_cohort_allows() -> None:
    ranked = FeatureUsage("reports", "Reports", 40, percentile=80, plan_key="growth", plan_name="Growth")
    assert "more active than 80 % of teams on Growth (Reports)" in note(
        ImpactFacts("this term", UsageReport((ranked,)))
    )
    unnamed = FeatureUsage("reports", "Reports", 40, percentile=80, plan_key="growth")
    assert "teams on growth (Reports)" in note(ImpactFacts("this term", UsageReport((unnamed,))))
    unranked = FeatureUsage("reports", "Reports", 40)
    assert "teams on" not in note(ImpactFacts("this term", UsageReport((unranked,))))


def test_wording_sections_and_locales() -> None:
    report = sample_report(NOW)
    template = ReportTemplate(sections=("usage", "summary"), wording={"de": {"title": "Ihr Quartal"}})
    german = view(report, template, "de")
    assert german.title == "Ihr Quartal" and [s.key for s in german.sections] == ["usage", "summary"]
    assert german.sections[1].lines[0] == "≈ 156 hours saved (+62,5 %)"  # German decimals
    assert view(report, template, "en").sections[1].lines[0] == "≈ 156 hours saved (+62.5 %)"


def test_dates_are_formatted_per_locale() -> None:
    day = date(2026, 9, 25)
    assert Formatter("de").day(day) == "25.09.2026"
    assert Formatter("en").day(day) == "Sep 25, 2026"
    german = view(sample_report(NOW), ReportTemplate(), "de")
    assert german.footer.startswith("Erstellt am 02.10.2026")


def test_a_share_link_is_valid_until_it_expires_or_is_revoked() -> None:
    link = ShareLink("l", "t", "a", "2026-Q3", "en", NOW, NOW + timedelta(hours=1))
    assert link.valid_at(NOW) and link.valid_at(NOW + timedelta(minutes=59))
    assert not link.valid_at(NOW + timedelta(hours=1))  # expiry is exclusive
    revoked = ShareLink("l", "t", "a", "2026-Q3", "en", NOW, NOW + timedelta(hours=1), revoked_at=NOW)
    assert not revoked.valid_at(NOW)


def test_share_tokens_are_signed() -> None:
    signer = ShareSigner(b"key")
    token = signer.token("tenant-a", "link-1")
    assert signer.verify(token) == ("tenant-a", "link-1")
    assert ShareSigner(b"other").verify(token) is None
    assert signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert signer.verify("garbage") is None


def test_every_format_renders() -> None:
    report = sample_report(NOW)
    assert "<svg" in documents.html(report, ReportTemplate(), "en")
    assert documents.pdf(report, ReportTemplate(), "de").startswith(b"%PDF")
    assert documents.csv_text(report).startswith("section,item,metric,value")
    assert report.expiring[0].expires_at - NOW == timedelta(days=30)


def test_the_impact_note_in_german() -> None:
    usage = UsageReport(
        (FeatureUsage("reports", "Reports", 1240, percentile=80, plan_key="growth", plan_name="Growth"),),
        (("hours saved", 310.5),),
        ("Reports",),
    )
    facts = ImpactFacts("this quarter", usage, RewardsSummary(2, balance=Decimal("150")))
    assert note(facts, "de") == (
        "In diesem Quartal hat Ihr Team erreicht: 1.240 Reports, ~310,5 hours saved und 2 Prämien. "
        "Sie haben 150 Punkte Guthaben. "
        "Ihr Team ist aktiver als 80 % der Teams mit Growth (Reports). "
        "Mit der Verlängerung behalten Sie Reports."
    )
    assert note(ImpactFacts("this term"), "de").startswith("Wir konnten Ihre Zahlen gerade nicht abrufen.")
    assert note(facts).startswith("This quarter your team generated 1,240 reports, ~310.5 hours saved")


def test_built_in_templates_follow_the_readers_language_a_tenants_own_does_not() -> None:
    for event_type in (RENEWAL_DUE, QUARTERLY_SUMMARY):
        built_in = default_template(event_type)
        assert localised(built_in, event_type, "en") is built_in
        assert localised(built_in, event_type, "de") != built_in
    assert "Neu bei Ihrer Verlängerung" in localised(default_template(RENEWAL_DUE), RENEWAL_DUE, "de").body
    own = Template("Renewal soon", "{{ impact.note }}")
    assert localised(own, RENEWAL_DUE, "de") is own
