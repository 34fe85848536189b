"""Charts as inline SVG, drawn from a report table: no images, scripts or fonts to fetch.

Hand-written rather than a plotting library: the three chart types the report needs (grouped
bars, stacked bars, lines) take ~150 lines, the output is small, deterministic and text stays
text (screen readers read the title and the numbers are in the table beside it), and nothing
heavy is imported. Every label is escaped.
"""

from __future__ import annotations

from html import escape

from triage.tables import Chart, Table

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 170, 28, 64


def svg(table: Table) -> str:
    """The table's chart as an ``<svg>`` element, or "" when it has none or nothing to draw."""
    chart = table.chart
    if chart is None:
        return ""
    rows = table.rows[: len(table.rows) - chart.summary_rows] if chart.summary_rows else table.rows
    if chart.max_rows is not None:
        rows = rows[: chart.max_rows]
    if not rows:
        return ""
    if chart.kind == "lines":
        names = [str(r[chart.category_column]) for r in rows]
        xs = [table.columns[i] for i in chart.series_columns]
        series = [[_num(r[i]) for i in chart.series_columns] for r in rows]
        return _lines(chart, xs, names, series)
    xs = [str(r[chart.category_column]) for r in rows]
    names = [table.columns[i] for i in chart.series_columns]
    series = [[_num(r[i]) for r in rows] for i in chart.series_columns]
    return _bars(chart, xs, names, series, stacked=chart.kind == "stacked")


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _frame(chart: Chart, top: float, names: list[str]) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(chart.title)}" font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(chart.title)}</text>',
    ]
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        shown = f"{value:,.0f}" if top >= 4 else f"{value:.1f}"
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{shown}</text>')
    for i, name in enumerate(names):
        y = TOP + 6 + i * 18
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 30}" y="{y + 10}">{escape(name[:26])}</text>')
    return parts


def _x_labels(xs: list[str], centre: list[float]) -> list[str]:
    y = HEIGHT - BOTTOM + 14
    every = max(1, len(xs) // 12)
    return [
        f'<text x="{cx:.1f}" y="{y}" text-anchor="end" transform="rotate(-35 {cx:.1f} {y})">{escape(x[:22])}</text>'
        for i, (x, cx) in enumerate(zip(xs, centre, strict=True))
        if i % every == 0
    ]


def _bars(chart: Chart, xs: list[str], names: list[str], series: list[list[float]], stacked: bool) -> str:
    peak = max((sum(col) for col in zip(*series, strict=True)), default=0) if stacked else max(max(s) for s in series)
    top = _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(xs)
    parts = _frame(chart, top, names)
    centres = []
    for i in range(len(xs)):
        x0 = LEFT + i * group + group * 0.1
        centres.append(LEFT + (i + 0.5) * group)
        base = 0.0
        for j, values in enumerate(series):
            value = values[i]
            height = plot_h * value / top
            colour = PALETTE[j % len(PALETTE)]
            tip = f"<title>{escape(xs[i])}, {escape(names[j])}: {value:g}</title>"
            if stacked:
                y = TOP + plot_h - plot_h * (base + value) / top
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y:.1f}" width="{group * 0.8:.1f}" height="{height:.1f}" fill="{colour}">{tip}</rect>'
                )
                base += value
            else:
                width = group * 0.8 / len(series)
                y = TOP + plot_h - height
                parts.append(
                    f'<rect x="{x0 + j * width:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{colour}">{tip}</rect>'
                )
    parts += _x_labels(xs, centres)
    parts.append("</svg>")
    return "".join(parts)


def _lines(chart: Chart, xs: list[str], names: list[str], series: list[list[float]]) -> str:
    top = _nice_max(max(max(s) for s in series))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(xs) - 1)
    centres = [LEFT + i * step for i in range(len(xs))]
    parts = _frame(chart, top, names)
    for j, values in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        points = " ".join(f"{centres[i]:.1f},{TOP + plot_h - plot_h * v / top:.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"><title>{escape(names[j])}</title></polyline>'
        )
        for i, v in enumerate(values):
            parts.append(
                f'<circle cx="{centres[i]:.1f}" cy="{TOP + plot_h - plot_h * v / top:.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(names[j])}, {escape(xs[i])}: {v:g}</title></circle>"
            )
    parts += _x_labels(xs, centres)
    parts.append("</svg>")
    return "".join(parts)
