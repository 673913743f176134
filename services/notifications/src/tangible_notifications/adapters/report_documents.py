"""The report rendered: a self-contained HTML page (inline CSS, SVG charts, the logo as a
data URL), a PDF (fpdf2, DejaVu Sans from matplotlib's fonts so every language's letters
and a real text layer, PNG charts) and CSV (one figure a row, numbers unformatted)."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from pathlib import Path

import matplotlib
from fpdf import FPDF
from jinja2 import Environment, select_autoescape

from tangible_notifications.adapters.report_charts import png, svg, usage_chart, value_chart
from tangible_notifications.domain.report import ImpactReport
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.report_view import ReportView, Section, view

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="{{ v.locale }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ v.title }} · {{ account }}</title>
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
header { display: flex; align-items: center; gap: 1rem; border-bottom: 4px solid {{ t.primary_color }}; padding-bottom: .5rem; }
header img { max-height: 3rem; }
h1 { color: {{ t.primary_color }}; margin: 0; }
h2 { color: {{ t.primary_color }}; border-bottom: 1px solid {{ t.accent_color }}; padding-bottom: .2rem; }
.headline { font-size: 1.25rem; color: {{ t.accent_color }}; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; }
td + td, th + th { text-align: right; }
figure { margin: 1rem 0; } figure svg { width: 100%; height: auto; }
footer { margin-top: 2rem; color: #777; font-size: .8rem; }
</style></head>
<body>
<header>{% if logo %}<img src="{{ logo }}" alt="">{% endif %}<h1>{{ v.title }}</h1></header>
<p>{{ v.intro }}</p>
{% for s in v.sections %}<section id="{{ s.key }}"><h2>{{ s.title }}</h2>
{% for line in s.lines %}<p{% if s.key == "summary" %} class="headline"{% endif %}>{{ line }}</p>
{% endfor %}{% if s.rows %}<table><thead><tr>{% for h in s.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in s.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% endif %}{% if s.chart and charts[s.chart] %}<figure>{{ charts[s.chart] | safe }}</figure>{% endif %}
</section>
{% endfor %}<footer>{{ v.footer }}</footer>
</body></html>
"""
)


def _titles(v: ReportView, template: ReportTemplate) -> tuple[str, str]:
    return template.text(v.locale, "usage_chart"), template.text(v.locale, "value_chart")


def _colors(template: ReportTemplate) -> tuple[str, str]:
    return template.primary_color, template.accent_color


def logo_bytes(template: ReportTemplate) -> bytes | None:
    """The logo's image, from its data URL (never fetched: a report makes no outbound call)."""
    if not template.logo or "," not in template.logo:
        return None
    try:
        return base64.b64decode(template.logo.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None


def html(report: ImpactReport, template: ReportTemplate, locale: str) -> str:
    v = view(report, template, locale)
    usage_title, value_title = _titles(v, template)
    charts = {
        "usage": svg(usage_chart(report, usage_title, _colors(template))) if report.features else "",
        "value": svg(value_chart(report, value_title, _colors(template))) if report.value_history else "",
    }
    return PAGE.render(
        v=v,
        t=template,
        logo=template.logo if logo_bytes(template) else None,
        charts=charts,
        account=report.account_id,
    )


def _hex(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _table(pdf: FPDF, section: Section) -> None:
    with pdf.table(text_align="LEFT", first_row_as_headings=True, line_height=6) as table:
        table.row(list(section.header))
        for row in section.rows:
            table.row(list(row))


def pdf(report: ImpactReport, template: ReportTemplate, locale: str) -> bytes:
    v = view(report, template, locale)
    usage_title, value_title = _titles(v, template)
    document = FPDF(format="A4")
    document.set_auto_page_break(auto=True, margin=15)
    document.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    document.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    document.set_title(f"{v.title} · {report.account_id}")
    document.add_page()
    primary = _hex(template.primary_color)
    logo = logo_bytes(template)
    if logo is not None:
        try:
            document.image(io.BytesIO(logo), x=document.l_margin, y=10, h=12)
            document.set_y(25)
        except (RuntimeError, ValueError, OSError):
            pass  # not an image fpdf2 can read: the report goes on without it
    document.set_font("DejaVu", "B", 20)
    document.set_text_color(*primary)
    document.cell(text=v.title, new_x="LMARGIN", new_y="NEXT")
    document.set_font("DejaVu", "", 10)
    document.set_text_color(34, 34, 34)
    document.multi_cell(0, 6, v.intro, new_x="LMARGIN", new_y="NEXT")
    for section in v.sections:
        document.ln(3)
        document.set_font("DejaVu", "B", 13)
        document.set_text_color(*primary)
        document.cell(text=section.title, new_x="LMARGIN", new_y="NEXT")
        document.set_font("DejaVu", "", 10)
        document.set_text_color(34, 34, 34)
        for line in section.lines:
            document.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        if section.rows:
            _table(document, section)
        if section.chart == "usage":
            image = png(usage_chart(report, usage_title, _colors(template)))
        elif section.chart == "value":
            image = png(value_chart(report, value_title, _colors(template)))
        else:
            continue
        document.image(io.BytesIO(image), w=document.epw)
    document.ln(4)
    document.set_font("DejaVu", "", 8)
    document.set_text_color(119, 119, 119)
    document.cell(text=v.footer)
    return bytes(document.output())


def csv_text(report: ImpactReport) -> str:
    """Machine-readable: one figure a row, numbers as plain decimals whatever the locale."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["section", "item", "metric", "value", "previous", "year_earlier", "change_percent"])
    period = report.period.key

    def cell(value: object) -> str:
        return "" if value is None else str(value)

    writer.writerow(["period", period, "from", report.period.start.isoformat(), "", "", ""])
    writer.writerow(["period", period, "to", report.period.end.isoformat(), "", "", ""])
    for f in report.features:
        writer.writerow(
            ["usage", f.key, f.name, cell(f.total), cell(f.previous), cell(f.year_earlier), cell(f.change)]
        )
    for v in report.value:
        writer.writerow(["value", v.metric, v.metric, cell(v.value), cell(v.previous), "", cell(v.change)])
    if report.seats is not None:
        for name in ("purchased", "assigned", "active"):
            writer.writerow(["seats", name, name, getattr(report.seats, name), "", "", ""])
    for m in report.milestones:
        writer.writerow(
            ["milestones", m.name, "reached" if m.reached else "in_progress", cell(m.percent), "", "", ""]
        )
    for r in report.rewards:
        writer.writerow(["rewards", r.name, r.granted_at.isoformat(), cell(r.credits), "", "", ""])
    writer.writerow(["credits", "granted", "period", cell(report.credits_granted), "", "", ""])
    writer.writerow(["credits", "balance", "now", cell(report.balance), "", "", ""])
    for e in report.expiring:
        writer.writerow(["credits", "expiring", e.expires_at.isoformat(), cell(e.amount), "", "", ""])
    if (peer := report.peer) is not None:
        writer.writerow(["peers", peer.feature, peer.plan_key, cell(peer.percentile), "", "", ""])
    for name in report.unused:
        writer.writerow(["unused", name, "", "", "", "", ""])
    return out.getvalue()
