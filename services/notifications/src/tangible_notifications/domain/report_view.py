"""The report as its readers see it, in one language: sections in the template's order,
each with its title, lines, a table and the chart it shows. HTML and PDF both render this,
so they say the same thing; numbers and dates are formatted for the locale by Babel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

from tangible_notifications.domain.report import ImpactReport
from tangible_notifications.domain.report_template import ReportTemplate


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    chart: str | None = None  # "usage" or "value"


@dataclass(frozen=True)
class ReportView:
    locale: str
    title: str
    intro: str
    footer: str
    sections: tuple[Section, ...] = field(default=())
    headline: tuple[str, ...] = ()


class Formatter:
    def __init__(self, locale: str) -> None:
        self.locale = locale

    def number(self, value: float | Decimal | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value, format="#,##0.#", locale=self.locale)

    def change(self, percent: float | None) -> str:
        if percent is None:
            return "–"
        sign = "+" if percent > 0 else ""
        return f"{sign}{format_decimal(percent, format='#,##0.#', locale=self.locale)} %"

    def percent(self, value: float) -> str:
        return f"{format_decimal(value, format='#,##0', locale=self.locale)} %"

    def day(self, value: date | datetime) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def period(self, report: ImpactReport) -> str:
        period = report.period
        if period.kind == "month":
            return format_date(period.start, format="MMMM y", locale=self.locale)
        if period.kind == "quarter":
            return f"Q{(period.start.month - 1) // 3 + 1} {period.start.year}"
        if period.kind == "year":
            return str(period.start.year)
        return f"{self.day(period.start)} – {self.day(period.end)}"


def _headline(report: ImpactReport, t: ReportTemplate, fmt: Formatter) -> tuple[str, ...]:
    lines = [
        t.text(fmt.locale, "headline_value", value=fmt.number(v.value), metric=v.metric)
        + (f" ({fmt.change(v.change)})" if v.change is not None else "")
        for v in report.value
        if v.value > 0
    ]
    lines += [
        t.text(fmt.locale, "headline_use", total=fmt.number(f.total), feature=f.name)
        + (f" ({fmt.change(f.change)})" if f.change is not None else "")
        for f in report.features
        if f.total > 0
    ]
    return tuple(lines)


def _peer_line(report: ImpactReport, t: ReportTemplate, fmt: Formatter) -> str | None:
    peer = report.peer
    if peer is None:
        return None
    return t.text(
        fmt.locale, "peer", percent=fmt.percent(peer.percentile), plan=peer.plan, feature=peer.feature
    )


def _section(key: str, report: ImpactReport, t: ReportTemplate, fmt: Formatter) -> Section | None:
    loc = fmt.locale
    title = t.text(loc, key)
    if key == "summary":
        lines: list[str] = list(_headline(report, t, fmt)) or [t.text(loc, "nothing")]
        if report.missing:
            lines.append(t.text(loc, "missing", sources=", ".join(report.missing)))
        return Section(key, title, tuple(lines))
    if key == "usage":
        header = tuple(
            t.text(loc, k) for k in ("feature", "this_period", "previous", "year_earlier", "change")
        )
        rows: tuple[tuple[str, ...], ...] = tuple(
            (
                f.name,
                fmt.number(f.total),
                fmt.number(f.previous),
                fmt.number(f.year_earlier),
                fmt.change(f.change),
            )
            for f in report.features
        )
        return Section(key, title, header=header, rows=rows, chart="usage" if report.features else None)
    if key == "value":
        if not report.value:
            return None
        header = tuple(t.text(loc, k) for k in ("metric", "this_period", "previous", "change"))
        rows = tuple(
            (v.metric, fmt.number(v.value), fmt.number(v.previous), fmt.change(v.change))
            for v in report.value
        )
        return Section(key, title, header=header, rows=rows, chart="value" if report.value_history else None)
    if key == "seats":
        if report.seats is None:
            return None
        header = tuple(t.text(loc, k) for k in ("purchased", "assigned", "active"))
        s = report.seats
        return Section(
            key,
            title,
            header=header,
            rows=((fmt.number(s.purchased), fmt.number(s.assigned), fmt.number(s.active)),),
        )
    if key == "milestones":
        if not report.milestones:
            return None
        state = {True: t.text(loc, "reached"), False: t.text(loc, "in_progress")}
        return Section(
            key,
            title,
            tuple(f"{m.name}: {state[m.reached]} ({fmt.percent(m.percent)})" for m in report.milestones),
        )
    if key == "rewards":
        lines = [f"{t.text(loc, 'granted')}: {fmt.number(report.credits_granted)}"]
        lines += [
            f"{r.name}"
            + (f" · {fmt.number(r.credits)}" if r.credits is not None else "")
            + f" · {fmt.day(r.granted_at)}"
            for r in report.rewards
        ]
        return Section(key, title, tuple(lines))
    if key == "credits":
        lines = [f"{t.text(loc, 'balance')}: {fmt.number(report.balance)}"]
        lines += [
            t.text(loc, "expiring", amount=fmt.number(e.amount), date=fmt.day(e.expires_at))
            for e in report.expiring
        ]
        if not report.expiring:
            lines.append(t.text(loc, "no_expiring"))
        return Section(key, title, tuple(lines))
    if key == "peers":
        return Section(key, title, (_peer_line(report, t, fmt) or t.text(loc, "no_peer"),))
    if key == "unused":
        unused = tuple(t.text(loc, "unused_line", feature=name) for name in report.unused)
        return Section(key, title, unused or (t.text(loc, "none_unused"),))
    return None


def view(report: ImpactReport, template: ReportTemplate, locale: str) -> ReportView:
    fmt = Formatter(locale)
    sections = tuple(
        s for key in template.sections if (s := _section(key, report, template, fmt)) is not None
    )
    return ReportView(
        locale=locale,
        title=template.text(locale, "title"),
        intro=template.text(locale, "intro", account=report.account_id, period=fmt.period(report)),
        footer=template.text(locale, "footer", date=fmt.day(report.generated_at)),
        sections=sections,
        headline=_headline(report, template, fmt),
    )


def peer_sentence(report: ImpactReport, template: ReportTemplate, locale: str) -> str | None:
    return _peer_line(report, template, Formatter(locale))
