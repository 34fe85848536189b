"""A council's published 2023/24 complaints report, rebuilt as a register and a learning log
written here, must come out of `triage report` figure for figure.

The register has the shape of the published one (a title block, stage and date columns written
every way landlords write them, blank trailing rows) and counts chosen to give the published
figures: 36 stage 1 complaints received (one of them reopened, counted once), 35 responded to
in the year, 30 within the Code's timescale and 33 counting agreed extensions, 19 upheld; MP
enquiries 54.87% allocations; service requests 38.83% repairs and 26.21% neighbourhoods; CH01
7.15 per 1,000 of 5,035 homes. The log: 41 learning outcomes, 32 implemented by the year end and
34 to date."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from learning_data import make_case

from triage.cases import Event, record_event
from triage.cli import cli
from triage.errors import InputError
from triage.learning.io import import_log, load_map
from triage.report import make_report
from triage.report.figures import Report
from triage.store.db import Store

START, END, AS_AT = date(2023, 4, 1), date(2024, 3, 31), date(2024, 6, 30)
HOMES = 5035
MAP = """[columns]
reference = "Case Ref"
received = "Date Rec'd"
category = "Type"
stage = "Stage"
service_area = "Service"
themes = "Theme"
acknowledged = "Ack Date"
responded = "Response Date"
extension_agreed = "Extension"
outcome = "Outcome"
"""
STAGE_SPELLINGS = ("1", "Stage 1", "S1", "Stage One", "stage1")
HEADER = ["Case Ref", "Date Rec'd", "Type", "Stage", "Service", "Theme", "Ack Date", "Response Date", "Extension", "Outcome"]


def _written(day: date, i: int) -> str:
    """The same date as a register's many hands write it."""
    return (day.strftime("%d/%m/%Y"), day.strftime("%d-%b-%y"), day.isoformat(), str((day - date(1899, 12, 30)).days))[i % 4]


def register_rows() -> list[list[str]]:
    rows: list[list[str]] = []
    areas = ["Repairs"] * 20 + ["Neighbourhoods"] * 10 + ["Income"] * 6
    # Stage 1: received on 35 Mondays from 3 Apr 2023, acknowledged the same day.
    for k in range(35):
        received = date(2023, 4, 3) + timedelta(weeks=k)
        late, extended = k in (3, 9, 15, 21, 27), k in (3, 9, 15)  # 5 late, 3 of them within an agreed extension
        responded = received + timedelta(days=28 if late else 7)
        extension = _written(responded, k) if extended else "No"
        outcome = "Upheld" if k < 19 else ("Partly upheld" if k < 27 else "Not upheld")
        rows.append(
            [f"C1-{k:03}", _written(received, k), "Complaint", STAGE_SPELLINGS[k % 5], areas[k], "Repairs",
             _written(received, k + 1), _written(responded, k + 2), extension, outcome]
        )  # fmt: skip
    # The 36th: received late in March, not yet responded to at the year end.
    rows.append(["C1-035", "25/03/2024", "Complaint", "Stage 1", areas[35], "Repairs", "25/03/2024", "", "", ""])
    # C1-004 reopened: recorded again at stage 1, counted once.
    rows.append(
        ["C1-004", "01/05/2023", "Complaint", "Stage 1", "Repairs", "Repairs", "01/05/2023", "05/05/2023", "No", "Upheld"]
    )
    # Stage 2: five escalations, all answered within 20 working days.
    for k, area in enumerate(["Repairs"] * 3 + ["Neighbourhoods"] * 2):
        requested = date(2023, 6, 5) + timedelta(weeks=4 * k)
        rows.append(
            [f"C1-{k:03}", _written(requested, k), "Complaint", "Stage 2", area, "Repairs", _written(requested, k),
             _written(requested + timedelta(days=14), k), "No", "Not upheld"]
        )  # fmt: skip
    # Informal handling recorded as such: ghost stages by name.
    for k, stage in enumerate(["Informal", "Stage 0", "Informal", "Stage 0"]):
        rows.append(
            [f"INF-{k}", _written(date(2023, 7, 3) + timedelta(weeks=k), k), "Complaint", stage, "Repairs", "", "", "", "", ""]
        )
    # MP enquiries: 113, 62 about allocations.
    mp = [("Allocations", "Voids and lettings")] * 62 + [("Repairs", "Repairs")] * 30 + [("Neighbourhoods", "ASB")] * 21
    for k, (area, theme) in enumerate(mp):
        rows.append(
            [f"MP-{k:03}", _written(date(2023, 4, 4) + timedelta(days=3 * k), k), "MP enquiry", "", area, theme, "", "", "", ""]
        )
    # Service requests: 103, 40 repairs and 27 neighbourhoods.
    sr = ["Repairs"] * 40 + ["Neighbourhoods"] * 27 + ["Income"] * 20 + ["Tenancy"] * 16
    for k, area in enumerate(sr):
        rows.append(
            [
                f"SR-{k:03}",
                _written(date(2023, 4, 5) + timedelta(days=3 * k), k),
                "Service request",
                "N/A",
                area,
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return rows


def learning_rows() -> list[dict[str, str]]:
    """41 outcomes identified in the year: 32 implemented by 31 March, 2 more by June, 5 open
    (3 of them past target at the year end), 2 dropped."""
    rows = []
    for k in range(41):
        identified = date(2023, 4, 10) + timedelta(days=7 * k)
        row = {"reference": f"LO-{k:03}", "description": f"Outcome {k}", "risk": ("red", "amber", "green")[k % 3],
               "identified": identified.isoformat(), "service_area": "Repairs", "theme": "repairs", "status": "implemented",
               "target_date": (identified + timedelta(days=30)).isoformat()}  # fmt: skip
        if k < 32:
            row["implemented"] = min(identified + timedelta(days=20), END).isoformat()
        elif k < 34:
            row.update(implemented=("2024-04-15", "2024-05-20")[k - 32], target_date="2024-04-30")
        elif k < 39:
            row["status"] = "open"
            row["target_date"] = ("2024-01-31", "2024-02-29", "2024-03-15", "2024-04-30", "2024-05-31")[k - 34]
        else:
            row.update(status="dropped", dropped_on=identified.isoformat(), dropped_reason="superseded")
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    tmp = tmp_path_factory.mktemp("published")
    register = tmp / "complaints-register-2023-24.csv"
    with register.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Hillside Council: complaints, MP enquiries and service requests 2023/24"])
        out.writerow(["Exported from the housing system on 02/04/2024"])
        out.writerow([])
        out.writerow(HEADER)
        out.writerows(register_rows())
        out.writerows([[""] * len(HEADER)] * 3)  # blank trailing rows
    (tmp / "map.toml").write_text(MAP, encoding="utf-8")
    log = tmp / "learning-log.csv"
    with log.open("w", encoding="utf-8", newline="") as f:
        columns = ["reference", "description", "risk", "identified", "service_area", "theme", "status", "target_date",
                   "implemented", "dropped_on", "dropped_reason"]  # fmt: skip
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(learning_rows())
    store = tmp / "triage.db"
    with Store(store) as db:
        with db.transaction() as conn:
            result = import_log(conn, log, load_map(None), "test")
            assert (result.added, result.bad_rows) == (41, [])
            refused = [make_case(conn, ["repairs"]) for _ in range(3)]
        # Refusals, recorded as the complaints team records them: a case event with the Code exclusion.
        for pk, reason in zip(refused, ["legal_proceedings", "over_12_months: a 2021 leak", "legal_proceedings"], strict=True):
            record_event(db, pk, Event("refused", "stage_1", date(2023, 9, 4), reason=reason, recorded_by="test"), "england")
        with pytest.raises(InputError, match="a refusal needs its reason under the Code's exclusions"):
            record_event(db, refused[0], Event("refused", "stage_1", date(2023, 9, 4), reason="too busy"), "england")
    report = make_report(
        START, END, by="quarter", register=register, map_file=tmp / "map.toml", store=str(store), homes=HOMES, as_at=AS_AT
    )
    return report, tmp


def rows(report: Report, table_id: str) -> list[list[Any]]:
    return report.table(table_id).rows


def test_the_published_headline_figures(published: tuple[Report, Path]) -> None:
    report = published[0]
    figures = {f.id: f.value for f in report.figures}
    assert figures["stage1"] == 36 and figures["stage2"] == 5
    assert figures["ch01_stage1"] == 7.15  # 36 / 5,035 homes x 1,000, to two decimals
    assert figures["ch01_stage2"] == 0.99
    assert figures["ch02_stage1"] == 94.29  # TSM basis: 33 of the 35 responded to, with extensions
    assert figures["ch02_stage1_received"] == 91.67  # 33 of the 36 received
    assert figures["upheld_stage1"] == 54.29  # 19 of 35 responded to
    assert figures["reopened"] == 1
    assert rows(report, "register_problems") == []


def test_ch02_on_both_bases(published: tuple[Report, Path]) -> None:
    assert rows(published[0], "ch02_timescales") == [
        ["stage 1 (10 working days)", "responded", 35, 30, 85.71, 33, 94.29, 3],
        ["stage 2 (20 working days)", "responded", 5, 5, 100.0, 5, 100.0, 0],
        ["stage 1 (10 working days)", "received", 36, 30, 83.33, 33, 91.67, 3],
        ["stage 2 (20 working days)", "received", 5, 5, 100.0, 5, 100.0, 0],
    ]


def test_outcomes_on_both_bases(published: tuple[Report, Path]) -> None:
    assert rows(published[0], "outcomes") == [
        ["stage 1", "responded", 35, 19, 54.29, 8, 22.86, 8, 22.86, 0],
        ["stage 2", "responded", 5, 0, 0.0, 0, 0.0, 5, 100.0, 0],
        ["stage 1", "received", 36, 19, 52.78, 8, 22.22, 8, 22.22, 1],
        ["stage 2", "received", 5, 0, 0.0, 0, 0.0, 5, 100.0, 0],
    ]


def test_the_published_breakdowns(published: tuple[Report, Path]) -> None:
    report = published[0]
    assert rows(report, "mp_enquiries_by_area") == [
        ["Allocations", 62, 54.87],
        ["Repairs", 30, 26.55],
        ["Neighbourhoods", 21, 18.58],
        ["Total", 113, 100.0],
    ]
    assert rows(report, "mp_enquiries_by_theme") == [
        ["Voids and lettings", 62, 54.87],
        ["Repairs", 30, 26.55],
        ["Anti-social behaviour", 21, 18.58],
        ["Total", 113, 100.0],
    ]
    assert rows(report, "service_requests_by_area") == [
        ["Repairs", 40, 38.83],
        ["Neighbourhoods", 27, 26.21],
        ["Income", 20, 19.42],
        ["Tenancy", 16, 15.53],
        ["Total", 103, 100.0],
    ]
    assert rows(report, "complaints_by_area") == [
        ["Repairs", 20, 55.56, 3, 60.0],
        ["Neighbourhoods", 10, 27.78, 2, 40.0],
        ["Income", 6, 16.67, 0, 0.0],
        ["Total", 36, 100.0, 5, 100.0],
    ]
    assert rows(report, "reopened") == [["stage 1", 36, 1, 1], ["stage 2", 5, 0, 0]]
    kinds = dict(zip(report.table("volumes_by_kind").columns, rows(report, "volumes_by_kind")[-1], strict=True))
    assert (kinds["Informal resolution"], kinds["Stage 0"]) == (2, 2)
    assert rows(report, "ghost_stages")[-1][-1] == 4


def test_the_published_learning_figures(published: tuple[Report, Path]) -> None:
    by_risk = {r[0]: r for r in rows(published[0], "learning_by_risk")}
    # identified, implemented by the year end and %, implemented to date (30 June 2024) and %, open, dropped
    assert by_risk["total"] == ["total", 41, 32, 78.05, 34, 82.93, 7, 2]
    assert [by_risk[r][1] for r in ("red", "amber", "green")] == [14, 14, 13]
    assert "implemented to date (2024-06-30)" in published[0].table("learning_by_risk").columns
    assert len(rows(published[0], "learning_past_target")) == 3  # open at the year end with the target passed


def test_the_report_files_keep_two_decimals_and_the_cli_chooses_the_basis(published: tuple[Report, Path]) -> None:
    tmp = published[1]
    args = ["report", "--from", "2023-04-01", "--to", "2024-03-31", "--register", str(tmp / "complaints-register-2023-24.csv")]
    args += ["--map", str(tmp / "map.toml"), "--homes", "5,035", "--basis", "received", "--out", str(tmp / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert "CH02 stage 1 91.67% (received basis; responded basis 94.29%)" in result.stdout
    data = json.loads((tmp / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["figures"]["ch02_stage1"]["value"] == 91.67 and data["figures"]["ch02_stage1_responded"]["value"] == 94.29
    assert data["figures"]["upheld_stage1"]["value"] == 52.78  # 19 of 36 received
    assert data["figures"]["ch01_stage1"]["value"] == 7.15
    import openpyxl

    sheet = openpyxl.load_workbook(tmp / "out" / "report.xlsx")["mp_enquiries_by_area"]
    assert [c.value for c in sheet[2]][:3] == ["Allocations", 62, 54.87]


def test_acknowledgements_and_refusals(published: tuple[Report, Path]) -> None:
    assert rows(published[0], "acknowledgements") == [
        ["stage 1 (5 working days)", 36, 36, 100.0, 0],
        ["stage 2 (5 working days)", 5, 5, 100.0, 0],
    ]
    refusals = {r[0]: r[2] for r in rows(published[0], "refusals")}
    assert refusals == {"over_12_months": 1, "legal_proceedings": 2, "previously_considered": 0, "other": 0, "Total": 3}


def test_the_annual_report_in_the_codes_structure(published: tuple[Report, Path]) -> None:
    tmp = published[1]
    (tmp / "board.txt").write_text(
        "The board noted the report on 14 May 2024 and asked for a damp and mould review.", encoding="utf-8"
    )
    args = ["report", "--from", "2023-04-01", "--to", "2024-03-31", "--register", str(tmp / "complaints-register-2023-24.csv")]
    args += ["--map", str(tmp / "map.toml"), "--store", str(tmp / "triage.db"), "--homes", "5035", "--as-at", "2024-06-30"]
    args += ["--annual", "--governing-body-response", str(tmp / "board.txt"), "--out", str(tmp / "annual")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp / "annual" / "annual.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in data["sections"]] == [
        "a_self_assessment",
        "b_performance",
        "c_ombudsman_findings",
        "d_service_improvements",
        "e_ombudsman_reports",
        "f_governing_body_response",
    ]
    form = data["sections"][0]["tables"][0]
    assert form["columns"][:4] == ["section", "Code provision", "requirement", "complies?"]
    evidence = {r[1]: r[4] for r in form["rows"]}
    assert evidence["6.2"] == "36 of 36 acknowledged within 5 working days (100.0%); 0 with no acknowledgement recorded."
    assert evidence["6.3, 6.4"].startswith("responded basis: 30 of 35 within the Code's timescale (85.71%), 33 counting agreed")
    assert evidence["2.2–2.4"] == "Complaints refused: 3 (over_12_months 1, legal_proceedings 2)."
    assert evidence["5.2, 5.3"].startswith("4 contacts recorded at an informal stage or stage 0")
    assert evidence["9.1–9.7"].startswith(
        "41 learning outcomes identified; 32 implemented by the period end (78.05%), 34 to date"
    )
    sections = {s["id"]: s for s in data["sections"]}
    assert sections["c_ombudsman_findings"]["intro"].startswith("Still to be written by the landlord.")
    assert sections["f_governing_body_response"]["intro"].startswith("The board noted the report on 14 May 2024")
    assert "refusals" in {t["id"] for t in sections["b_performance"]["tables"]}
    page = (tmp / "annual" / "annual.html").read_text(encoding="utf-8")
    assert "(a) Self-assessment against the Complaint Handling Code" in page and "Still to be written" in page
