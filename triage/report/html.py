"""report.html: one self-contained page (styles inline, charts as inline SVG, no scripts, no
external references), rendered from the computed :class:`~triage.report.figures.Report` with an
autoescaping Jinja2 template shipped in the package."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from triage.report.charts import svg
from triage.report.figures import Report
from triage.tables import Cell, Table


def fmt(value: Cell) -> str:
    """How a cell is shown on the page (the JSON and XLSX keep the raw value)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if 0 < abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def css(value: Cell) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "num"
    return value if value in ("rising", "falling") else ""  # type: ignore[return-value]


def _chart(table: Table) -> Markup:
    return Markup(svg(table))  # built from escaped parts in charts.py


_ENV = Environment(loader=PackageLoader("triage.report", "templates"), autoescape=True)
_ENV.globals.update(fmt=fmt, css=css, chart=_chart)


def render_html(report: Report) -> str:
    return _ENV.get_template("report.html.j2").render(report=report)


def write_html(report: Report, path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8")
