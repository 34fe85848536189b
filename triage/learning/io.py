"""A landlord's learning log in and out, as CSV or XLSX.

The default columns are ``reference, cases, description, action, action_type, service_area,
theme, risk, identified, target_date, status, implemented, dropped_on, dropped_reason``; a map file (TOML)
names other columns and translates other words for the risk, status and action type::

    [columns]
    reference = "Ref"
    cases = "Complaint refs"
    description = "What went wrong"
    identified = "Date identified"

    [values.risk]
    High = "red"
    Medium = "amber"
    Low = "green"

Only ``reference``, ``description``, ``risk`` and ``identified`` must be in the file; the other
default columns are read when present. A column a map file names must be there. Importing is
idempotent: a row whose reference is already stored updates that outcome. Rows that cannot be
imported are returned with their row number and the reason, and kept (``write_rejects``) so they
can be corrected and imported again; nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from triage.errors import ColumnError, InputError
from triage.ingest.survey import parse_date, read_rows
from triage.labels import ACTION_TYPES, OUTCOME_STATUSES, RISKS
from triage.learning.records import (
    CaseLink,
    Outcome,
    get_outcome,
    normalise_area,
    normalise_choice,
    normalise_theme,
    problems,
    save_outcome,
)
from triage.pipeline import load_toml
from triage.sheets import append_xlsx, from_csv_cell, write_csv_rows

REQUIRED = ("reference", "description", "risk", "identified")
RAG_LETTERS = {"R": "red", "A": "amber", "G": "green"}  # a RAG column often holds only the letter


class LearningColumns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reference: str = "reference"
    cases: str = "cases"
    description: str = "description"
    action: str = "action"
    action_type: str = "action_type"
    service_area: str = "service_area"
    theme: str = "theme"
    risk: str = "risk"
    identified: str = "identified"
    target_date: str = "target_date"
    status: str = "status"
    implemented: str = "implemented"
    dropped_on: str = "dropped_on"
    dropped_reason: str = "dropped_reason"


class LearningValues(BaseModel):
    """The log's own words for risk, status and action type, each mapped to triage's."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    risk: dict[str, str] = Field(default_factory=dict)
    status: dict[str, str] = Field(default_factory=dict)
    action_type: dict[str, str] = Field(default_factory=dict)


class LearningMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: LearningColumns = LearningColumns()
    values: LearningValues = LearningValues()
    base_dir: Path = Field(default=Path("."), exclude=True)

    def required_roles(self) -> set[str]:
        """Roles whose column must exist: the four needed, and any column a map file names."""
        return set(REQUIRED) | set(self.columns.model_fields_set)


def load_map(path: str | Path | None) -> LearningMap:
    if path is None:
        return LearningMap()
    learning_map = load_toml(path, LearningMap, "learning-log map file", "See pipelines/learning-map.toml for an example.")
    for role, allowed in (("risk", RISKS), ("status", OUTCOME_STATUSES), ("action_type", ACTION_TYPES)):
        for word, value in getattr(learning_map.values, role).items():
            if value not in allowed:
                raise InputError(
                    f"{path}: [values.{role}] maps {word!r} to {value!r}, which is not one of {', '.join(allowed)}. "
                    "Fix the map file and run again."
                )
    return learning_map


class LogColumnError(ColumnError):
    what = "learning log"
    fix = "Name the right column in a map file (--map), or rename the column in the file."


@dataclass
class ImportResult:
    path: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)  # row, reference, reason, cells
    unmatched_cases: list[dict[str, Any]] = field(default_factory=list)  # row, reference, case (kept as text)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad_rows": [{k: v for k, v in b.items() if k != "cells"} for b in self.bad_rows],
            "unmatched_cases": self.unmatched_cases,
        }


def split_cases(text: str) -> list[str]:
    """Case references in one cell: separated by ``;``, ``,`` or new lines."""
    return [part.strip() for part in re.split(r"[;,\n]", text) if part.strip()]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: object, what: str, found: list[str]) -> date | None:
    if value is None or _text(value) == "":
        return None
    parsed = parse_date(value)
    if parsed is None:
        found.append(f"{what} {_text(value)!r} is not a date (use 2026-11-03 or 03/11/2026)")
        return None
    return parsed.date()


def _choice(value: object, words: dict[str, str], allowed: tuple[str, ...], default: str) -> str:
    text = _text(value)
    if not text:
        return default
    lowered = {k.strip().lower(): v for k, v in words.items()}
    return lowered.get(text.lower()) or normalise_choice(text, allowed) or text


def outcome_from_row(row: dict[str, object], learning_map: LearningMap, where: str) -> tuple[Outcome, list[str]]:
    """One log row as an outcome, and what is wrong with it."""
    cols, values = learning_map.columns, learning_map.values

    def cell(role: str) -> object:
        return row.get(getattr(cols, role))

    found: list[str] = []
    if not _text(cell("reference")):
        found.append("no reference (a reference lets the log be imported again without adding it twice)")
    identified = _date(cell("identified"), "identified", found)
    if not _text(cell("identified")):
        found.append("no date identified")
    theme_text = _text(cell("theme"))
    theme = normalise_theme(theme_text)
    outcome = Outcome(
        reference=_text(cell("reference")),
        description=_text(cell("description")),
        action=_text(cell("action")),
        action_type=_choice(cell("action_type"), values.action_type, ACTION_TYPES, "other"),
        service_area=normalise_area(_text(cell("service_area"))),
        theme=theme if theme is not None else theme_text,
        risk=_choice(cell("risk"), {**RAG_LETTERS, **values.risk}, RISKS, ""),
        identified=identified or date.min,  # a placeholder: the row is already refused
        target_date=_date(cell("target_date"), "target date", found),
        status=_choice(cell("status"), values.status, OUTCOME_STATUSES, "open"),
        implemented=_date(cell("implemented"), "implemented", found),
        dropped_on=_date(cell("dropped_on"), "dropped on", found),
        dropped_reason=_text(cell("dropped_reason")),
        cases=[CaseLink(ref) for ref in split_cases(_text(cell("cases")))],
        source="imported",
        source_detail=where,
    )
    found += problems(outcome)
    return outcome, found


def read_log(path: Path, learning_map: LearningMap) -> tuple[list[tuple[int, Outcome, dict[str, object]]], list[dict[str, Any]]]:
    """The outcomes a log file holds (with their row numbers and cells), and its bad rows."""
    header, rows = read_rows(path)
    required = learning_map.required_roles()
    for role in (r for r in LearningColumns.model_fields if r in required):
        column = getattr(learning_map.columns, role)
        if column not in header:
            raise LogColumnError(str(path), column, role, [h for h in header if h])
    good, bad = [], []
    written_by_csv = path.suffix.lower() in (".csv", ".txt", ".tsv")
    for number, row in rows:
        if written_by_csv:  # undo the quote a CSV export puts before formula-like text
            row = {k: from_csv_cell(v.strip()) if isinstance(v, str) else v for k, v in row.items()}
        outcome, found = outcome_from_row(row, learning_map, f"{path.name} row {number}")
        if found:
            bad.append({"row": number, "reference": outcome.reference, "reason": "; ".join(found), "cells": row})
        else:
            good.append((number, outcome, row))
    return good, bad


def import_log(conn: Any, path: Path, learning_map: LearningMap, by: str) -> ImportResult:
    """Import a learning log inside the caller's transaction: good rows are stored (or brought
    up to date), bad rows are returned with their row numbers."""
    good, bad = read_log(path, learning_map)
    result = ImportResult(str(path), bad_rows=bad)
    seen: dict[str, int] = {}
    for number, outcome, cells in good:
        if outcome.reference in seen:
            result.bad_rows.append(
                {
                    "row": number,
                    "reference": outcome.reference,
                    "reason": f"the same reference as row {seen[outcome.reference]}; give each outcome its own reference",
                    "cells": cells,
                }
            )
            continue
        seen[outcome.reference] = number
        what = save_outcome(conn, outcome, by)
        setattr(result, what, getattr(result, what) + 1)
        for link in get_outcome(conn, outcome.reference).cases:
            if link.case_pk is None:
                result.unmatched_cases.append({"row": number, "reference": outcome.reference, "case": link.ref})
    result.bad_rows.sort(key=lambda b: b["row"])
    return result


def write_rejects(result: ImportResult, path: Path, header: list[str]) -> None:
    """The bad rows as they were, with ``row`` and ``problem`` columns in front (CSV)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        write_csv_rows(
            f,
            [
                ["row", "problem", *header],
                *([b["row"], b["reason"], *(_text(b["cells"].get(h)) for h in header)] for b in result.bad_rows),
            ],
        )


def header_of(path: Path) -> list[str]:
    return [h for h in read_rows(path)[0] if h]


# -- export --------------------------------------------------------------------------------
def _reverse(words: dict[str, str], value: str) -> str:
    for word, meaning in words.items():
        if meaning == value:
            return word
    return value


def export_rows(outcomes: list[Outcome], learning_map: LearningMap) -> tuple[list[str], list[list[object]]]:
    """The header and rows of a log in the map's layout (dates as dates)."""
    cols, values = learning_map.columns, learning_map.values
    roles = list(LearningColumns.model_fields)
    header = [getattr(cols, role) for role in roles]
    rows = []
    for o in outcomes:
        cell = {
            "reference": o.reference,
            "cases": "; ".join(c.ref for c in o.cases),
            "description": o.description,
            "action": o.action,
            "action_type": _reverse(values.action_type, o.action_type),
            "service_area": o.service_area,
            "theme": o.theme,
            "risk": _reverse(values.risk, o.risk),
            "identified": o.identified,
            "target_date": o.target_date,
            "status": _reverse(values.status, o.status),
            "implemented": o.implemented,
            "dropped_on": o.dropped_on,
            "dropped_reason": o.dropped_reason,
        }
        rows.append([cell[role] for role in roles])
    return header, rows


def export_log(outcomes: list[Outcome], path: Path, learning_map: LearningMap) -> None:
    """Write outcomes as CSV or XLSX (by the file's extension) in the map's layout."""
    header, rows = export_rows(outcomes, learning_map)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            write_csv_rows(f, [header, *rows])
    elif suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Learning log"
        for r in [header, *rows]:
            append_xlsx(sheet, r)
        for column in sheet.iter_cols(min_row=2):
            for c in column:
                if isinstance(c.value, datetime | date):
                    c.number_format = "yyyy-mm-dd"
        book.save(path)
    else:
        raise InputError(f"{path}: a learning log is written as .csv or .xlsx (got {suffix or 'no extension'}).")
