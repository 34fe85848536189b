"""A landlord's complaints register as landlords write it.

Registers are kept by hand in Excel: a title row above the header, blank rows at the end, stage
columns holding ``1``, ``Stage 1``, ``S1``, ``Stage One``, ``stage1``, ``Informal`` or ``Stage 0``,
dates as ``15/04/2023``, ``15-Apr-23``, Excel serial numbers or ISO, and numbers with thousands
separators. :func:`read_register` finds the header row; the ``*_value`` functions read one cell
each and raise :class:`ValueProblem` (the value and what is accepted) when they cannot, which the
caller turns into a row/column/value problem for the report's data-quality table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from triage.errors import InputError
from triage.ingest.survey import csv_text, open_workbook, parse_date

HEADER_SEARCH_ROWS = 20  # a title block above the header is a few rows at most
EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
EXCEL_SERIALS = range(20000, 80000)  # 1954..2119: a bare number in this range in a date column is a serial
INFORMAL = 0  # the stage number a register's informal / stage 0 handling reads as
STAGES_ACCEPTED = "1, 2, Stage 1, S1, Stage One, stage1, Informal, Stage 0 (or blank)"
DATES_ACCEPTED = "15/04/2023, 15-Apr-23, 15 April 2023, 2023-04-15, or an Excel date or serial number"
NUMBERS_ACCEPTED = "a whole number, with or without thousands separators (1,234)"

_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "0": 0, "1": 1, "2": 2, "3": 3, "i": 1, "ii": 2}
_STAGE = re.compile(r"^(?:stage|stg|st|s)?\s*[-.:]?\s*(zero|one|two|three|[0-3]|ii|i)(?:\.0+)?\b")
_INFORMAL = ("informal", "early resolution", "pre-complaint", "pre complaint", "quick fix", "frontline resolution")
_NO_STAGE = {"", "none", "n/a", "na", "-", "not applicable", "not a complaint"}
_TEXT_DATES = ("%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%d %b %y", "%d %B %y", "%d/%m/%y", "%d-%B-%Y", "%d/%b/%Y")


class ValueProblem(ValueError):
    """One cell that cannot be read: its value and what would be accepted."""

    def __init__(self, value: object, what: str, accepted: str) -> None:
        self.value, self.what, self.accepted = value, what, accepted
        super().__init__(f"{what} {value!s:.60} not understood (accepted: {accepted})")


def stage_value(value: object) -> int | None:
    """The complaint stage a register cell records: 1, 2, :data:`INFORMAL` (0) for informal /
    stage 0 handling, 3 for a (non-Code) third stage, None when blank or 'not a complaint'."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value) in (0, 1, 2, 3):
            return int(value)
        raise ValueProblem(value, "stage", STAGES_ACCEPTED)
    text = " ".join(str(value).lower().replace("_", " ").split())
    if text in _NO_STAGE:
        return None
    if any(text.startswith(word) for word in _INFORMAL):
        return INFORMAL
    if text.startswith("formal"):
        text = text.removeprefix("formal").strip(" -:")
    match = _STAGE.match(text)
    if match is None:
        raise ValueProblem(value, "stage", STAGES_ACCEPTED)
    return _WORDS[match.group(1)]


def date_value(value: object) -> date | None:
    """A register date: a spreadsheet date, an Excel serial, ISO, or UK day-first text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value, value)
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text), value)
    parsed = parse_date(text)
    if parsed is not None:
        return parsed.date()
    for fmt in _TEXT_DATES:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueProblem(value, "date", DATES_ACCEPTED)


def _serial(number: float, raw: object) -> date:
    if int(number) not in EXCEL_SERIALS:
        raise ValueProblem(raw, "date", DATES_ACCEPTED)
    return EXCEL_EPOCH + timedelta(days=int(number))


def count_value(value: object) -> int | None:
    """A whole number as registers write it: ``1,234``, ``1 234``, ``1234.0``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace(",", "").replace(" ", "").replace("\u00a0", "").replace("_", "")
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    raise ValueProblem(value, "number", NUMBERS_ACCEPTED)


def _key(name: object) -> str:
    return " ".join(str(name or "").lower().split())


def read_register(path: Path, wanted: list[str]) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    """The header and rows of a register (CSV or XLSX). The header is the first row, of the first
    :data:`HEADER_SEARCH_ROWS`, holding every ``wanted`` column, so a title block above it is
    skipped; when none does, the first non-blank row (and the caller's column check names what
    is missing). Header names match ``wanted`` whatever their case and spacing. Blank rows
    (trailing ones included) are skipped; row numbers are the file's own."""
    raw = _raw_rows(path)
    want = {_key(w): w for w in wanted}
    seen: list[tuple[int, list[object]]] = []
    for number, cells in raw:
        seen.append((number, cells))
        if set(want) <= {_key(c) for c in cells} or len(seen) >= HEADER_SEARCH_ROWS:
            break
    at = next((i for i, (_, cells) in enumerate(seen) if set(want) <= {_key(c) for c in cells}), 0)
    if not seen:
        return [], iter(())
    header = [want.get(_key(c), str(c).strip() if c is not None else "") for c in seen[at][1]]

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        for number, cells in [*seen[at + 1 :]]:
            yield number, dict(zip(header, cells, strict=False))
        for number, cells in raw:
            yield number, dict(zip(header, cells, strict=False))

    return header, rows()


def _raw_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    """Non-blank rows as lists of cells, with their 1-based row numbers."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _csv_rows(path)
    raise InputError(f"{path}: a register must be .csv or .xlsx (got {suffix or 'no extension'}). Save it from Excel as either.")


def _csv_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    text = csv_text(path, "register")
    # The delimiter: the one used most on any of the first lines (a title line may have none).
    head = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    delimiter = max(",;\t|", key=lambda d: max(line.count(d) for line in head))
    reader = csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
    for number, row in enumerate(reader, start=1):
        if any(cell.strip() for cell in row):
            yield number, list(row)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    book = open_workbook(path)
    try:
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if any(cell not in (None, "") and str(cell).strip() for cell in row):
                yield number, list(row)
    finally:
        book.close()
