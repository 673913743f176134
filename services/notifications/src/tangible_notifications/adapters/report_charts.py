"""The report's charts, drawn by matplotlib (Agg, no display): usage per feature over the
period, and value over time (every outcome metric summed per month). SVG for the HTML
page, PNG for the PDF. Figures are built without pyplot, so no global state is shared
between concurrent renders."""

from __future__ import annotations

import io
from datetime import datetime, time

import matplotlib

matplotlib.use("Agg")  # before anything imports a GUI backend

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tangible_notifications.domain.report import ImpactReport  # noqa: E402

SIZE = (7.0, 2.6)


def _figure() -> Figure:
    figure = Figure(figsize=SIZE, dpi=100)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.18)
    return figure


def _style(figure: Figure, title: str) -> None:
    axes = figure.axes[0]
    axes.set_title(title, loc="left", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=7)
    axes.grid(axis="y", alpha=0.3)


def usage_chart(report: ImpactReport, title: str, colors: tuple[str, str]) -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    palette = [colors[0], colors[1], "#E07A5F", "#81B29A", "#F2CC8F", "#6D597A"]
    for index, feature in enumerate(f for f in report.features if f.series):
        days = date2num([datetime.combine(day, time()) for day, _ in feature.series])  # type: ignore[no-untyped-call]
        axes.plot(
            days,
            [v for _, v in feature.series],
            marker="o",
            markersize=3,
            color=palette[index % len(palette)],
            label=feature.name,
        )
    if axes.lines:
        axes.legend(fontsize=7, frameon=False)
    axes.xaxis_date()
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    _style(figure, title)
    return figure


def value_chart(report: ImpactReport, title: str, colors: tuple[str, str]) -> Figure:
    figure = _figure()
    axes = figure.add_subplot()
    months = [day for day, _ in report.value_history]
    values = [v for _, v in report.value_history]
    current = [report.period.start <= day <= report.period.end for day in months]
    axes.bar(
        [d.strftime("%Y-%m") for d in months],
        values,
        color=[colors[0] if now else colors[1] for now in current],
    )
    if len(months) > 8:
        axes.tick_params(axis="x", labelrotation=45)
    _style(figure, title)
    return figure


def svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})  # reproducible output
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog or doctype


def png(figure: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
