"""triage report: one computation rendered as HTML, XLSX and JSON, over a register and the store."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT, sample_pipeline
from sqlalchemy import func, select

from triage.cli import cli
from triage.report import make_report, write_report
from triage.report.figures import Report
from triage.report.inputs import Inputs, make_periods
from triage.report.json_out import as_json
from triage.report.trends import theme_trends
from triage.store.db import Store
from triage.store.schema import case_events, classifications, messages

sys.path.insert(0, str(ROOT / "benchmarks"))
from report import fill_store

DATA = ROOT / "tests" / "data"
REGISTER, REGISTER_MAP = DATA / "annual-register.csv", DATA / "annual-register-map.toml"


# -- a register that must reproduce a published annual report ---------------------------------
@pytest.fixture(scope="module")
def annual(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    report = make_report(date(2025, 4, 1), date(2026, 3, 31), by="quarter", register=REGISTER, map_file=REGISTER_MAP, homes=4000)
    out = tmp_path_factory.mktemp("annual")
    write_report(report, out)
    return report, out


def rows(report: Report, table_id: str) -> list[list[Any]]:
    return report.table(table_id).rows


def test_register_reproduces_the_published_headline_and_ch01(annual: tuple[Report, Path]) -> None:
    """Northbrook Homes' annual complaints performance report 2025/26 (4,000 homes), table 1."""
    figures = {f.id: f.value for f in annual[0].figures}
    assert figures == {
        "contacts": 40,
        "complaint_contacts": 25,
        "stage1": 20,
        "stage2": 5,
        "escalation_rate": 25.0,
        "ch01_stage1": 5.0,
        "ch01_stage2": 1.25,  # to two decimals, as published
        "ch02_stage1": 94.74,  # 18 of the 19 responded to in the range (the TSM basis, the default)
        "ch02_stage2": 100.0,
        "ch02_stage1_received": 85.0,  # 17 of the 20 received in the range, shown beside it
        "ch02_stage2_received": 80.0,
        "upheld_stage1": 38.89,  # 7 of the 18 with an outcome recorded
        "upheld_stage2": 25.0,
        "reopened": 0,
    }
    assert rows(annual[0], "ch01_per_1000_homes") == [["stage 1", 20, 4000, 5.0], ["stage 2", 5, 4000, 1.25]]


def test_register_reproduces_the_published_timescales(annual: tuple[Report, Path]) -> None:
    """Table 2: responded in the year (one stage 1 from March 2025 answered in April counts), within 10 / 20
    working days of acknowledgement, and with agreed extensions (one agreed to a date, one 'Yes')."""
    assert rows(annual[0], "ch02_timescales") == [
        ["stage 1 (10 working days)", "responded", 19, 16, 84.21, 18, 94.74, 2],
        ["stage 2 (20 working days)", "responded", 4, 3, 75.0, 4, 100.0, 1],
        ["stage 1 (10 working days)", "received", 20, 15, 75.0, 17, 85.0, 2],
        ["stage 2 (20 working days)", "received", 5, 3, 60.0, 4, 80.0, 1],
    ]


def test_register_reproduces_the_published_service_areas_outcomes_and_themes(annual: tuple[Report, Path]) -> None:
    report = annual[0]
    assert rows(report, "complaints_by_area") == [
        ["Repairs and Maintenance", 9, 45.0, 3, 60.0],
        ["Neighbourhoods", 4, 20.0, 1, 20.0],
        ["Tenancy Services", 3, 15.0, 0, 0.0],
        ["Income", 2, 10.0, 1, 20.0],
        ["Customer Services", 2, 10.0, 0, 0.0],
        ["Total", 20, 100.0, 5, 100.0],
    ]
    assert rows(report, "outcomes") == [
        ["stage 1", "responded", 19, 7, 38.89, 6, 33.33, 5, 27.78, 1],
        ["stage 2", "responded", 4, 1, 25.0, 2, 50.0, 1, 25.0, 0],
        ["stage 1", "received", 20, 6, 30.0, 6, 30.0, 5, 25.0, 3],
        ["stage 2", "received", 5, 1, 20.0, 2, 40.0, 1, 20.0, 1],
    ]
    assert rows(report, "complaints_by_theme") == [
        ["Repairs", 8, 40.0],
        ["Communication", 6, 30.0],
        ["Damp and mould", 5, 25.0],  # "Damp & Mould" and "Damp and mould" are one theme
        ["Anti-social behaviour", 3, 15.0],  # "ASB" too
        ["Rent and charges", 2, 10.0],
        ["Staff conduct", 1, 5.0],
        ["(no theme recorded)", 1, 5.0],
    ]


def test_register_reproduces_the_published_quarterly_volumes(annual: tuple[Report, Path]) -> None:
    report = annual[0]
    assert rows(report, "complaints_by_stage") == [
        ["Apr–Jun 2025", 6, 3],
        ["Jul–Sep 2025", 5, 1],
        ["Oct–Dec 2025", 5, 0],
        ["Jan–Mar 2026", 4, 1],
        ["Total", 20, 5],
    ]
    table = report.table("volumes_by_kind")
    assert table.columns == ["period", "Complaint", "Service request", "MP enquiry", "Compliment", "Informal resolution", "total"]
    assert table.rows[-1] == ["Total", 25, 6, 3, 4, 2, 40]  # "Repair request", "service_request", "Member enquiry" understood
    assert rows(report, "ghost_stages")[-1] == ["All ghost-stage flags", "", "", 2]  # the two informal resolutions


def test_bad_register_rows_are_listed_not_dropped(annual: tuple[Report, Path]) -> None:
    problems = rows(annual[0], "register_problems")
    assert problems[0] == [43, "COMP-2599", "Date Received", "", "no received date"]
    assert problems[1][:4] == [44, "COMP-2598", "Date Received", "sometime in May"]
    assert problems[1][4].startswith("date sometime in May not understood (accepted: 15/04/2023, 15-Apr-23")


def test_the_same_register_as_xlsx_gives_the_same_report(annual: tuple[Report, Path], tmp_path: Path) -> None:
    import csv

    book = openpyxl.Workbook()
    sheet = book.active
    with REGISTER.open(encoding="utf-8") as f:
        for row in csv.reader(f):
            sheet.append(row)
    book.save(tmp_path / "register.xlsx")
    again = make_report(
        date(2025, 4, 1), date(2026, 3, 31), by="quarter", register=tmp_path / "register.xlsx", map_file=REGISTER_MAP, homes=4000
    )
    assert [t.rows for t in again.tables()] == [t.rows for t in annual[0].tables()]


def test_text_that_looks_like_a_formula_stays_text_in_the_xlsx(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(
        'reference,received,category,service_area\n=HYPERLINK("http://x"),2026-01-05,Informal resolution,=1+1\n', encoding="utf-8"
    )
    write_report(make_report(date(2026, 1, 1), date(2026, 1, 31), register=register), tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    cell = book["ghost_stages"]["C2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_register_with_default_columns_and_common_spellings(tmp_path: Path) -> None:
    register = tmp_path / "register.csv"
    register.write_text(
        "reference,received,category,stage,service_area,themes,acknowledged,responded,extension_agreed,outcome,text\n"
        "A1,2026-01-05,Complaint,,Repairs,Repairs,2026-01-06,2026-01-12,,Partially upheld,x\n"
        "A2,06/01/2026,Stage One,,Repairs,damp,,,,,x\n"
        "A3,07/01/2026,Informal resolution,,Repairs,,,,,,x\n"
        "A4,08/01/2026,MP enquiry,,Allocations,,,,,,x\n"
        "A5,09/01/2026,Complaint,Stage 9,Repairs,,,,,Resolved,x\n"
        "A6,09/01/2026,Service request,,Repairs,,,,maybe,,x\n"
        "A7,09/01/2026,Service request,N/A,Repairs,,,,,,x\n",
        encoding="utf-8",
    )
    report = make_report(date(2026, 1, 1), date(2026, 1, 31), register=register)
    assert {f.id: f.value for f in report.figures}["stage1"] == 2
    assert rows(report, "outcomes")[0][:7] == ["stage 1", "responded", 1, 0, 0.0, 1, 100.0]
    assert rows(report, "complaints_by_theme")[:2] == [["Damp and mould", 1, 50.0], ["Repairs", 1, 50.0]]
    problems = {r[1]: r[4] for r in rows(report, "register_problems")}
    assert set(problems) == {"A5", "A6"}
    assert "stage Stage 9 not understood (accepted: 1, 2, Stage 1, S1" in problems["A5"]
    assert "outcome 'Resolved' not understood" in problems["A5"]
    assert "extension agreed 'maybe' not understood" in problems["A6"]


# -- one computation, three renderings -----------------------------------------------------------
class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.external: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href", "xlink:href", "action", "data"):
            if a.get(key):
                self.external.append(f"{tag} {key}={a[key]}")
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.external.append(tag)
        if tag == "table":
            self._table = (a.get("id") or "").removeprefix("t-")
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td" and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parsed(out: Path) -> _Tables:
    parser = _Tables()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    return parser


def _same(shown: str, value: Any) -> bool:
    if value is None:
        return shown == "–"
    if isinstance(value, int | float):
        return float(shown.replace(",", "")) == pytest.approx(value, rel=1e-3)
    return shown == str(value)


def test_html_is_self_contained(annual: tuple[Report, Path]) -> None:
    page = (annual[1] / "report.html").read_text(encoding="utf-8")
    assert _parsed(annual[1]).external == []
    assert not re.search(r"(?:src|href)\s*=|<script|@import|url\(", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert page.count("<svg") >= 4


def test_json_html_and_xlsx_carry_the_same_figures(annual: tuple[Report, Path]) -> None:
    out = annual[1]
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    json_tables = {t["id"]: t for s in data["sections"] for t in s["tables"]}
    assert json_tables.keys() == {t.id for t in annual[0].tables()}
    html = _parsed(out).tables
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    for table_id, table in json_tables.items():
        sheet = [list(r) for r in book[table_id].iter_rows(values_only=True)]
        assert sheet[0] == table["columns"], table_id
        assert sheet[1:] == [[None if v == "" else v for v in r] for r in table["rows"]], table_id  # openpyxl reads "" as None
        if table["rows"]:
            assert len(html[table_id]) == len(table["rows"]), table_id
            for shown_row, row in zip(html[table_id], table["rows"], strict=True):
                assert all(_same(s, v) for s, v in zip(shown_row, row, strict=True)), (table_id, shown_row, row)
    for figure in data["figures"].values():
        assert figure["definition"]
    assert "CH02" in data["definitions"] and "binomial" in data["definitions"]["trend_test"]
    book.close()


def test_excerpts_are_redacted(annual: tuple[Report, Path]) -> None:
    excerpts = annual[0].table("excerpts").column("excerpt")
    assert excerpts
    assert any("[ADDRESS]" in e for e in excerpts)  # "my flat at 14 Cedar Court"
    assert not any("Cedar Court" in e for e in excerpts)


# -- the trend test --------------------------------------------------------------------------
def test_a_rising_theme_is_marked_and_a_steady_one_is_not() -> None:
    totals = [200, 210, 190, 205, 200, 200]
    series = {
        "damp_mould": [20, 22, 19, 21, 20, 60],  # ~10% for five periods, then 30%
        "repairs": [80, 84, 76, 82, 80, 81],  # steady 40%
        "communication": [40, 42, 38, 41, 40, 12],  # 20% falling to 6%
    }
    result = theme_trends(series, totals)
    assert result["damp_mould"].direction == "rising" and result["damp_mould"].adjusted_p < 0.001
    assert result["communication"].direction == "falling"
    assert result["repairs"].direction == "" and result["repairs"].adjusted_p > 0.5


def test_tiny_counts_are_never_marked() -> None:
    totals = [10, 10, 10, 10, 10]
    result = theme_trends({"leasehold": [0, 1, 0, 1, 6]}, totals)  # 6 of 10, from 2 of 40: big, but tiny
    assert result["leasehold"].direction == "" and result["leasehold"].p_value is None
    assert "fewer than" in result["leasehold"].reason
    short = theme_trends({"repairs": [50, 90]}, [100, 100])  # one earlier period is no history
    assert short["repairs"].direction == "" and "earlier periods" in short["repairs"].reason


def test_periods_follow_uk_midnight_and_financial_quarters() -> None:
    quarters = make_periods(date(2025, 4, 1), date(2026, 3, 31), "quarter")
    assert [p.label for p in quarters] == ["Apr–Jun 2025", "Jul–Sep 2025", "Oct–Dec 2025", "Jan–Mar 2026"]
    months = make_periods(date(2025, 3, 15), date(2025, 5, 10), "month")
    assert (months[0].label, months[0].start, months[0].end) == ("Mar 2025", date(2025, 3, 15), date(2025, 3, 31))
    # 23:30 UTC on 31 March 2025 is 00:30 on 1 April in the UK (BST): April.
    assert months[1].utc_bounds()[0] == datetime(2025, 3, 31, 23, 0, tzinfo=UTC)


# -- the store: the real pipeline, SQLite and PostgreSQL ----------------------------------------
@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("report-sample")
    result = CliRunner().invoke(cli, ["run", str(sample_pipeline(folder)), "--json"])
    assert result.exit_code == 0, result.stderr
    return str(folder / "triage.db")


def test_report_over_the_sample_store(sample_store: str, tmp_path: Path) -> None:
    """The sample job classifies, routes and opens cases; a complaint's acknowledgement and response
    are recorded with `triage case event`, as staff would."""
    with Store(sample_store) as store, store.engine.connect() as conn:
        kinds = set(conn.execute(select(classifications.c.kind)).scalars())
        total = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        opened = select(case_events.c.case_pk).where(case_events.c.event == "received", case_events.c.stage == "stage_1")
        stage1 = conn.execute(select(func.count()).select_from(opened.subquery())).scalar_one()
        case_pk = conn.execute(opened.order_by(case_events.c.case_pk)).scalars().first()
    runner = CliRunner()
    for args in (["acknowledged", "--on", "2026-11-24"], ["responded", "--on", "2026-12-01", "--outcome", "partly_upheld"]):
        done = runner.invoke(cli, ["case", "event", str(case_pk), *args, "--by", "J Okafor", "--store", sample_store])
        assert done.exit_code == 0, done.stderr
    result = runner.invoke(
        cli,
        [
            "report",
            "--from",
            "2026-08-01",
            "--to",
            "2026-12-31",
            "--store",
            sample_store,
            "--homes",
            "2500",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["figures"]["contacts"]["value"] == total
    tables = {t["id"]: t for s in data["sections"] for t in s["tables"]}
    volumes = tables["volumes_by_kind"]
    assert sum(volumes["rows"][-1][1:-1]) == volumes["rows"][-1][-1] == total
    assert kinds <= {c.lower().replace(" ", "_") for c in volumes["columns"]}
    assert stage1 > 5 and data["figures"]["stage1"]["value"] == stage1
    assert data["figures"]["ch02_stage1"]["value"] == 100.0
    assert tables["outcomes"]["rows"][0][:7] == ["stage 1", "responded", 1, 0, 0.0, 1, 100.0]
    assert tables["complaints_by_area"]["rows"][-1][1] == stage1 and len(tables["complaints_by_area"]["rows"]) > 2
    assert tables["ghost_stages"]["rows"][-1][-1] >= 1  # the sample's MP enquiry and "stage 0" mails
    assert tables["deadline_breaches"]["rows"] == [["acknowledgement_late", "6.2, 6.11", 1]]  # acknowledged 24 Nov
    hazards = {(r[0], r[1]): r[3] for r in tables["vulnerability_hazards"]["rows"]}
    assert hazards[("hazard", "emergency_hazard")] >= 1  # the gas smell
    excerpts = [r[2] for r in tables["excerpts"]["rows"]]
    assert excerpts and not any(re.search(r"\b07\d{3}\s?\d{6}\b|@", e) for e in excerpts)
    assert "Written:" in result.stdout


def test_stock_size_and_store_from_a_pipeline_file(sample_store: str, tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text(
        f'[pipeline]\nname = "x"\nstore = "{sample_store}"\nhomes = 2000\n\n[[sources]]\ntype = "files"\npaths = ["mail"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--pipeline", str(job), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    ch01 = {t["id"]: t for s in data["sections"] for t in s["tables"]}["ch01_per_1000_homes"]
    assert [r[2] for r in ch01["rows"]] == [2000, 2000]
    assert data["sources"] == [f"store sqlite:///{sample_store}"]


def test_store_queries_agree_on_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = str(tmp_path / "bench.db")
    for url in (sqlite_url, pg_url):
        fill_store(url, 3000, seed=3)
    reports = [make_report(date(2025, 4, 1), date(2026, 3, 31), store=url, homes=1000) for url in (sqlite_url, pg_url)]
    a, b = (as_json(r) for r in reports)
    for d in (a, b):
        d.pop("generated_at"), d.pop("sources")
    assert a == b
    assert a["figures"]["contacts"]["value"] == 3000 and a["figures"]["stage1"]["value"] > 100
    trends = dict(zip(*(reports[0].table("theme_trends").column(c) for c in ("theme", "trend")), strict=True))
    assert trends["Damp and mould"] in ("rising", "")  # built to rise in the last month


# -- the command ----------------------------------------------------------------------------------
def test_cli_over_a_register_lists_bad_rows(tmp_path: Path) -> None:
    args = ["report", "--from", "2025-04-01", "--to", "2026-03-31", "--by", "quarter", "--register", str(REGISTER)]
    result = CliRunner().invoke(cli, [*args, "--map", str(REGISTER_MAP), "--homes", "4000", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        "40 contacts; 20 stage 1 and 5 stage 2 complaints; CH02 stage 1 94.74% (responded basis; received basis 85.0%), stage 2 100.0% (responded basis; received basis 80.0%)."
    )
    assert "row 43 (COMP-2599), column 'Date Received': no received date" in result.stderr
    assert (
        "row 44 (COMP-2598), column 'Date Received', value 'sometime in May': date sometime in May not understood"
        in result.stderr
    )
    assert {p.name for p in tmp_path.iterdir()} == {"report.html", "report.xlsx", "report.json"}


def test_cli_errors_say_what_to_do(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["report", "--from", "2025-04-01", "--to", "2026-03-31", "--out", str(tmp_path)]
    missing = runner.invoke(cli, [*base, "--register", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such register file" in missing.stderr and "--register" in missing.stderr
    no_map = runner.invoke(cli, [*base, "--register", str(REGISTER)])  # its columns need the map
    assert (
        no_map.exit_code == 1 and "'reference'" in no_map.stderr and "Complaint Ref" in no_map.stderr and "--map" in no_map.stderr
    )
    nostore = runner.invoke(cli, [*base, "--store", str(tmp_path / "none.db")])
    assert nostore.exit_code == 1 and "no such store" in nostore.stderr and not (tmp_path / "none.db").exists()
    backwards = runner.invoke(cli, ["report", "--from", "2026-04-01", "--to", "2025-03-31", "--register", str(REGISTER)])
    assert backwards.exit_code == 1 and "before --from" in backwards.stderr


def test_inputs_add_up() -> None:
    periods = make_periods(date(2026, 1, 1), date(2026, 1, 31))
    a, b = Inputs(periods, ["a"]), Inputs(periods, ["b"])
    a.kind_counts[(0, "complaint")] = 2
    b.kind_counts[(0, "complaint")] = 3
    assert (a + b).kind_counts[(0, "complaint")] == 5 and (a + b).sources == ["a", "b"]
