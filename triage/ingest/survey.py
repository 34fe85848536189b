"""Survey exports (CSV and XLSX) to messages, one per row with free text.

The column mapping comes from the pipeline file (``[sources.columns]``): which column is the
free text, the respondent reference, the date, and optionally the response id and the question.
A missing or misspelt column is an error that names the file, the column and the columns that
do exist. The raw bytes of each message are the row as read (canonical JSON), so re-importing
the same export stores nothing new.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from triage.errors import InputError, SurveyColumnError
from triage.message import UK, Message, Source

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
)


@dataclass(frozen=True, slots=True)
class SurveyColumns:
    text: str = "text"
    respondent: str | None = "respondent"
    received: str | None = "received"
    response_id: str | None = None
    question: str | None = None

    def required(self) -> list[tuple[str, str]]:
        roles = [
            ("text", self.text),
            ("respondent", self.respondent),
            ("received", self.received),
            ("response_id", self.response_id),
            ("question", self.question),
        ]
        return [(role, col) for role, col in roles if col]


def parse_date(value: object) -> datetime | None:
    """A survey date (Excel datetime, ISO or UK day-first text) as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    else:
        text = str(value).strip()
        dt = None
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    dt = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if dt is None:
            return None
    return dt.replace(tzinfo=UK) if dt.tzinfo is None else dt


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    """The header and the data rows (with their 1-based sheet/file row numbers)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise InputError(f"{path}: survey exports must be .csv or .xlsx (got {suffix or 'no extension'}).")


def csv_text(path: Path, what: str) -> str:
    """A CSV file's text as Excel writes it: UTF-8 (with or without a BOM), else Windows-1252."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: could not read the {what} ({exc.strerror}).") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows


def _read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    text = csv_text(path, "survey export")
    # The delimiter is the one the header line uses most (Excel in many locales writes ";");
    # quoting is always Excel's ("" inside a quoted field). csv.Sniffer guesses both, often wrongly.
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first_line.count) if any(d in first_line for d in ",;\t|") else ","
    reader = csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row):
                yield number, dict(zip(header, row, strict=False))

    return header, rows()


def open_workbook(path: Path) -> Any:
    """An .xlsx file opened read-only (values, not formulas), or an error that says what to check.
    Survey exports and complaint registers both read their first sheet through this."""
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(
            f"{path}: could not open the spreadsheet ({exc.__class__.__name__}: {exc}). "
            "Check it is a real .xlsx file (not .xls or a renamed CSV) and not password-protected."
        ) from exc


def _read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    book = open_workbook(path)
    sheet = book.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    first = next(rows_iter, None) or ()
    header = [str(h).strip() if h is not None else "" for h in first]

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        try:
            for number, row in enumerate(rows_iter, start=2):
                if any(cell not in (None, "") for cell in row):
                    yield number, dict(zip(header, row, strict=False))
        finally:
            book.close()

    return header, rows()


def read_survey(path: Path, columns: SurveyColumns, channel: str = "survey") -> Iterator[Message]:
    """Yield one message per row with free text. Raises InputError before yielding anything
    when the file cannot be read or a mapped column is missing."""
    header, rows = read_rows(path)
    for role, column in columns.required():
        if column not in header:
            raise SurveyColumnError(str(path), column, role, [h for h in header if h])
    return _messages(path, columns, rows, channel)


def _messages(
    path: Path, columns: SurveyColumns, rows: Iterator[tuple[int, dict[str, object]]], channel: str
) -> Iterator[Message]:
    for number, row in rows:
        text = _cell(row.get(columns.text))
        if not text:
            continue  # a row where the resident wrote nothing is not a message
        raw = json.dumps({k: _cell(v) for k, v in row.items() if k}, ensure_ascii=False, sort_keys=True)
        received_value = row.get(columns.received) if columns.received else None
        received = parse_date(received_value)
        defects = [] if received or not received_value else [f"date {received_value!r} not understood"]
        yield Message(
            source=Source("survey", path=str(path), row=number),
            channel=channel,
            raw=raw.encode("utf-8"),
            received_at=received,
            subject=_cell(row.get(columns.question)) if columns.question else "",
            respondent_ref=_cell(row.get(columns.respondent)) if columns.respondent else "",
            message_id=None,
            body_new=text,
            defects=defects,
        )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()
