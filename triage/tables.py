"""Plain tables and the rounding published figures use: shared by the report and the learning
section, so neither imports the other's figures module (imports flow one way: report -> learning
-> here).

A :class:`Table` has an id, a title, a definition and plain rows (strings, integers, floats,
None); the renderers only format what is in it. Percentages are rounded half up, as published
tables round, to ``PCT_PLACES`` decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Cell = str | int | float | None
PCT_PLACES = 2  # percentages as landlords publish them (54.87%)
RATE_PLACES = 2  # CH01 per 1,000 homes as published (7.15)


def half_up(value: float, places: int = 1) -> float:
    """Rounded as published tables round (1.25 -> 1.3), not to even."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def pct(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, two decimals, half up; None when ``whole`` is 0."""
    return half_up(100 * part / whole, PCT_PLACES) if whole else None


def per_1000(count: int, homes: int | None) -> float | None:
    return half_up(count / homes * 1000, RATE_PLACES) if homes else None


@dataclass
class Chart:
    """How the HTML draws a table. "bars" (grouped) and "stacked": one group per row, labelled by
    ``category_column``, one bar per ``series_columns`` column. "lines": one line per row (the
    first ``max_rows``), across the ``series_columns`` columns. The last ``summary_rows`` rows
    (totals) are not drawn."""

    kind: str
    category_column: int
    series_columns: list[int]
    title: str
    max_rows: int | None = None
    summary_rows: int = 1


@dataclass
class Table:
    id: str  # the sheet name and JSON key: short, unique
    title: str
    definition: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None

    def column(self, name: str) -> list[Cell]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]
