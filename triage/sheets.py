"""Spreadsheet-safe cells: the one place every CSV and XLSX writer in triage goes through.

Residents and staff write the text that reaches exports (learning logs, audit trails, reports).
A spreadsheet runs a CSV cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection), so such a cell is written with a single quote in front
(OWASP's advice), except a plain number such as ``-12.5``. In XLSX every string is stored as a
string cell, never a formula, so its text is written as it is.

The quote is reversible: ``from_csv_cell(csv_cell(text)) == text`` for every string, because a
text that already begins with quotes and then one of those characters gets one more quote too.
``triage learning import`` reads its own CSV exports back this way.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = re.compile(r"^'*[=+\-@\t\r]")  # what gets (or, read back, had) a quote in front
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def as_text(value: Any) -> str:
    """A value as a cell's text: dates as ISO dates, lists as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_cell(value: Any) -> str:
    """The text a CSV cell holds: formula-like text quoted, numbers as they are."""
    text = as_text(value)
    if isinstance(value, bool | int | float) or not _QUOTED.match(text) or _NUMBER.match(text):
        return text
    return "'" + text


def from_csv_cell(text: str) -> str:
    """Undo ``csv_cell`` on a cell read back from a CSV file triage wrote."""
    return text[1:] if _ESCAPED.match(text) else text


def write_csv_rows(handle: IO[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write rows (the header is a row) with every cell made safe."""
    writer = csv.writer(handle)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        value = as_text(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def put_xlsx(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Set one XLSX cell: strings as string cells (never formulas), characters XML cannot hold
    removed; dates, numbers and booleans as themselves. Returns the cell."""
    value = _xlsx_value(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl makes a formula of any string starting with "="
    return cell


def append_xlsx(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append`` with every cell set as ``put_xlsx`` sets it."""
    cleaned = [_xlsx_value(v) for v in values]
    sheet.append(cleaned)
    if any(v is not None for v in cleaned):
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
