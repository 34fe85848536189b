"""Registers as landlords write them: stage and date spellings, title rows, blank trailing rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from triage.ingest.register import INFORMAL, ValueProblem, count_value, date_value, read_register, stage_value
from triage.report import make_report


@pytest.mark.parametrize(
    ("cell", "stage"),
    [
        ("1", 1),
        (1, 1),
        (2.0, 2),
        ("Stage 1", 1),
        ("S1", 1),
        ("s2", 2),
        ("Stage One", 1),
        ("stage two", 2),
        ("stage1", 1),
        ("Stage 1 - formal", 1),
        ("Formal stage 2", 2),
        ("Informal", INFORMAL),
        ("Informal resolution", INFORMAL),
        ("Stage 0", INFORMAL),
        ("stage zero", INFORMAL),
        ("", None),
        ("N/A", None),
        (None, None),
    ],
)
def test_stage_spellings(cell: object, stage: int | None) -> None:
    assert stage_value(cell) == stage


@pytest.mark.parametrize("cell", ["Stage 9", "10", "pending", 7])
def test_a_stage_that_cannot_be_read_says_what_is_accepted(cell: object) -> None:
    with pytest.raises(ValueProblem) as info:
        stage_value(cell)
    assert f"stage {cell} not understood (accepted: 1, 2, Stage 1, S1, Stage One, stage1, Informal, Stage 0" in str(info.value)


@pytest.mark.parametrize(
    "cell",
    [
        "15/04/2023",
        "15-Apr-23",
        "15-Apr-2023",
        "15 April 2023",
        "2023-04-15",
        "15/04/23",
        45031,
        "45031",
        45031.0,
        datetime(2023, 4, 15, 9, 30),
    ],
)
def test_date_spellings(cell: object) -> None:
    assert date_value(cell) == date(2023, 4, 15)


@pytest.mark.parametrize("cell", ["31/02/2023", "sometime in May", 12, "2023/15/40"])
def test_a_date_that_cannot_be_read_says_what_is_accepted(cell: object) -> None:
    with pytest.raises(ValueProblem, match=r"accepted: 15/04/2023, 15-Apr-23"):
        date_value(cell)


def test_numbers_with_thousands_separators() -> None:
    assert [count_value(v) for v in ("1,234", "12 500", "3.0", 4, 5.0, "")] == [1234, 12500, 3, 4, 5, None]
    with pytest.raises(ValueProblem, match="number 12a not understood"):
        count_value("12a")


TITLED = (
    "Northbrook Homes complaints register 2023/24,,,,\n"
    "Exported 02/04/2024,,,,\n"
    ",,,,\n"
    "Reference, Date received ,Type,Stage,Service area\n"
    "C1,03-Apr-23,Complaint,S1,Repairs\n"
    "C2,45031,Complaint,Stage One,Repairs\n"
    "C3,2023-05-02,Complaint,Informal,Repairs\n"
    "C4,15/05/2023,Complaint,stage1,Income\n"
    "C5,16/05/2023,Complaint,2,Income\n"
    "C6,16/05/2023,Complaint,Stage 0,Income\n"
    ",,,,\n"
    ",,,,\n"
)
TITLED_MAP = '[columns]\nreference = "Reference"\nreceived = "Date received"\ncategory = "Type"\nstage = "Stage"\nservice_area = "Service area"\n'


def test_a_title_block_above_the_header_and_blank_trailing_rows(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(TITLED, encoding="utf-8")
    header, rows = read_register(register, ["Reference", "Date received", "Type"])
    assert header == ["Reference", "Date received", "Type", "Stage", "Service area"]
    assert [n for n, _ in rows] == [5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_titled_register_reports_every_stage_spelling(tmp_path: Path, suffix: str) -> None:
    register = tmp_path / f"register{suffix}"
    if suffix == ".csv":
        register.write_text(TITLED, encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for line in TITLED.splitlines():
            cells: list[object] = [c or None for c in line.split(",")]
            if cells[1] == "45031":
                cells[1] = 45031  # an Excel serial the cell was not formatted as a date
            elif cells[0] == "C4":
                cells[1] = datetime(2023, 5, 15)
            book.active.append(cells)
        book.save(register)
    (tmp_path / "map.toml").write_text(TITLED_MAP, encoding="utf-8")
    report = make_report(date(2023, 4, 1), date(2024, 3, 31), by="quarter", register=register, map_file=tmp_path / "map.toml")
    figures = {f.id: f.value for f in report.figures}
    assert (figures["stage1"], figures["stage2"]) == (3, 1)
    assert report.table("register_problems").rows == []
    kinds = dict(zip(report.table("volumes_by_kind").columns, report.table("volumes_by_kind").rows[-1], strict=True))
    assert (kinds["Complaint"], kinds["Informal resolution"], kinds["Stage 0"]) == (4, 1, 1)


def test_a_register_that_is_not_a_real_workbook_is_a_clear_error(tmp_path: Path) -> None:
    from triage.errors import InputError

    register = tmp_path / "register.xlsx"
    register.write_text("Reference,Date received\nCOMP-1,01/04/2024\n")  # a CSV renamed .xlsx
    with pytest.raises(InputError, match=r"register\.xlsx: could not open the spreadsheet .*not \.xls or a renamed CSV"):
        _header, rows = read_register(register, ["Reference"])
        list(rows)
