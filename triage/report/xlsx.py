"""report.xlsx: every table of the report on its own sheet (header row, then the rows, raw
values), and a first sheet saying what each sheet is."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from triage.report.figures import Report
from triage.tables import Cell


def _put(ws, row: int, col: int, value: Cell) -> None:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"  # text, never a formula (text from residents and registers)


def write_xlsx(report: Report, path: Path) -> None:
    book = Workbook()
    about = book.active
    about.title = "about"
    about.append([report.title])
    about["A1"].font = Font(bold=True, size=13)
    about.append([f"{report.start.isoformat()} to {report.end.isoformat()}, by {report.by}"])
    about.append(["sources", "; ".join(report.sources)])
    about.append([])
    about.append(["sheet", "title", "definition"])
    for table in report.tables():
        about.append([table.id, table.title, table.definition])
        ws = book.create_sheet(table.id[:31])
        for j, name in enumerate(table.columns, start=1):
            _put(ws, 1, j, name)
            ws.cell(row=1, column=j).font = Font(bold=True)
        for i, row in enumerate(table.rows, start=2):
            for j, value in enumerate(row, start=1):
                _put(ws, i, j, value)
        ws.freeze_panes = "A2"
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 44
    book.save(path)
