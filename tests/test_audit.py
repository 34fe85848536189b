"""Audit of a register written with a known answer: which contacts are ghost stages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT

from triage.cli import cli

REGISTER = ROOT / "tests" / "data" / "register.csv"
MAP = ROOT / "pipelines" / "register-map.toml"


def test_audit_finds_the_ghost_stages_with_evidence(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", str(REGISTER), "--map", str(MAP), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    flagged = {f["reference"]: f for f in report["flagged"]}
    # The known answer: recorded outside the process and reading as a complaint.
    assert set(flagged) == {"SR-1001", "IR-2001", "MP-4001", "ST0-5001"}
    assert flagged["MP-4001"]["rule"] == "dissatisfied_mp_enquiry"
    assert {f["rule"] for f in report["flagged"] if f["reference"] == "ST0-5001"} >= {"informal_stage_language"}
    assert all(f["evidence"] for f in report["flagged"])
    # Counts by recorded category and service area; the formal stage 1 entry is never flagged.
    assert report["by_recorded_category"]["stage_1"] == {"contacts": 1, "outside_process": 0, "flagged": 0}
    assert report["by_recorded_category"]["service_request"] == {"contacts": 3, "outside_process": 3, "flagged": 1}
    assert report["by_service_area"]["Repairs"]["flagged"] == 3
    # Bad rows are listed with their reason, not dropped.
    assert report["bad_rows"] == [
        {"row": 8, "reference": "SR-1003", "reason": "column 'Date received': no received date"},
        {"row": 9, "reference": "SR-1004", "reason": "no text"},
    ]
    assert report["contacts"] == 8
    csv_text = (tmp_path / "audit.csv").read_text()
    assert csv_text.count("\n") == 1 + 4 and "SR-1001" in csv_text
    page = (tmp_path / "audit.html").read_text()
    assert "<h1>Ghost-stage audit" in page and "ST0-5001" in page


def test_register_text_is_escaped_in_the_html(tmp_path: Path) -> None:
    register = tmp_path / "r.csv"
    register.write_text(
        "reference,received,category,text,service_area\n"
        'X<script>,01/11/2026,Service request,"<script>alert(1)</script> nobody came AGAIN, third time, disgusting",Repairs\n'
    )
    result = CliRunner().invoke(cli, ["audit", str(register), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "out" / "audit.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_wrong_column_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", str(REGISTER), "--out", str(tmp_path)])  # no --map: default names
    assert result.exit_code == 1
    assert "the register column 'reference' (mapped as 'reference') is not in the file" in result.stderr
    assert "'Case ref'" in result.stderr
