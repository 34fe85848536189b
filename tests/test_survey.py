"""Survey exports: CSV and XLSX with a column mapping, and clear errors for wrong columns."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from triage.errors import InputError, SurveyColumnError
from triage.ingest.survey import SurveyColumns, parse_date, read_survey
from triage.message import UK

COLUMNS = SurveyColumns(text="Answer", respondent="Tenancy Ref", received="Submitted", response_id="Response ID")
CSV = (
    "Response ID,Submitted,Answer,Tenancy Ref\n"
    "R1,2026-11-03 14:22,still waiting for the bathroom fan,T0012345\n"
    "R2,04/11/2026 09:10,,T0012346\n"
    'R3,05/11/2026,"lovely job on the fence, thanks",T0012347\n'
)


def test_csv_rows_become_survey_messages(tmp_path: Path) -> None:
    path = tmp_path / "tsm.csv"
    path.write_text(CSV, encoding="utf-8")
    msgs = list(read_survey(path, COLUMNS))
    assert [m.body_new for m in msgs] == ["still waiting for the bathroom fan", "lovely job on the fence, thanks"]
    assert [m.source.row for m in msgs] == [2, 4]  # row 3 has no free text
    assert msgs[0].channel == "survey" and msgs[0].respondent_ref == "T0012345"
    assert msgs[0].received_at == datetime(2026, 11, 3, 14, 22, tzinfo=UK)
    assert msgs[1].received_at == datetime(2026, 11, 5, tzinfo=UK)  # day-first UK date


def test_same_rows_give_same_hashes(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "b.csv").write_text(CSV, encoding="utf-8")
    a = [m.sha256 for m in read_survey(tmp_path / "a.csv", COLUMNS)]
    b = [m.sha256 for m in read_survey(tmp_path / "b.csv", COLUMNS)]
    assert a == b and len(set(a)) == 2


def test_excel_quoting_and_semicolon_delimiters(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Response ID;Answer\nR1;"They said ""it\'s on order"" for 6 weeks; still no fence"\nR2;ok\n')
    msgs = list(read_survey(path, SurveyColumns(text="Answer", respondent=None, received=None)))
    assert [m.body_new for m in msgs] == ['They said "it\'s on order" for 6 weeks; still no fence', "ok"]


def test_xlsx_with_real_dates(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Response ID", "Submitted", "Answer", "Tenancy Ref"])
    sheet.append(["R9", datetime(2026, 11, 10, 8, 5), "mould back in the bedroom", "T1"])
    book.save(tmp_path / "tsm.xlsx")
    [m] = list(read_survey(tmp_path / "tsm.xlsx", COLUMNS))
    assert m.body_new == "mould back in the bedroom"
    assert m.received_at == datetime(2026, 11, 10, 8, 5, tzinfo=UK)


def test_misspelt_column_names_file_column_and_what_exists(tmp_path: Path) -> None:
    path = tmp_path / "tsm.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(SurveyColumnError) as err:
        read_survey(path, SurveyColumns(text="Answers", respondent="Tenancy Ref", received="Submitted"))
    message = str(err.value)
    assert str(path) in message and "'Answers'" in message
    assert "'Response ID', 'Submitted', 'Answer', 'Tenancy Ref'" in message


def test_unreadable_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(InputError, match=r"broken\.xlsx: could not open the spreadsheet"):
        read_survey(path, COLUMNS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03", datetime(2026, 11, 3, tzinfo=UK)),
        ("3/11/2026 17:45", datetime(2026, 11, 3, 17, 45, tzinfo=UK)),
        ("not a date", None),
        ("", None),
    ],
)
def test_dates(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected
