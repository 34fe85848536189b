"""report.xlsx: every table of the report on its own sheet (header row, then the rows, raw
values), and a first sheet saying what each sheet is."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from triage.report.figures import Report
from triage.sheets import append_xlsx, put_xlsx


def write_xlsx(report: Report, path: Path) -> None:
    book = Workbook()
    about = book.active
    about.title = "about"
    append_xlsx(about, [report.title])
    about["A1"].font = Font(bold=True, size=13)
    append_xlsx(about, [f"{report.start.isoformat()} to {report.end.isoformat()}, by {report.by}"])
    append_xlsx(about, ["sources", "; ".join(report.sources)])
    append_xlsx(about, [])
    append_xlsx(about, ["sheet", "title", "definition"])
    for table in report.tables():
        append_xlsx(about, [table.id, table.title, table.definition])
        ws = book.create_sheet(table.id[:31])
        for j, name in enumerate(table.columns, start=1):
            put_xlsx(ws, 1, j, name)
            ws.cell(row=1, column=j).font = Font(bold=True)
        for i, row in enumerate(table.rows, start=2):
            for j, value in enumerate(row, start=1):
                put_xlsx(ws, i, j, value)
        ws.freeze_panes = "A2"
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 44
    book.save(path)
