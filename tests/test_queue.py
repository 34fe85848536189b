"""The sample job routes, flags and dates what it classifies; triage queue lists and filters it."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from conftest import sample_pipeline

from triage.cli import cli


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("queue")
    result = CliRunner().invoke(cli, ["run", str(sample_pipeline(folder)), "--json"])
    assert result.exit_code == 0, result.stderr
    return str(folder / "triage.db")


def rows(store: str, *args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["queue", "--store", store, "--json", *args])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_queue_is_sorted_by_due_date_with_undated_last(sample_store: str) -> None:
    items = rows(sample_store)
    dates = [i["due_date"] for i in items]
    dated = [d for d in dates if d]
    assert dated == sorted(dated) and dates[: len(dated)] == dated


def test_complaints_get_their_acknowledgement_date_and_the_register(sample_store: str) -> None:
    complaints = rows(sample_store, "--kind", "complaint")
    assert complaints and all(c["on_complaints_register"] for c in complaints)
    emailed = [c for c in complaints if c["channel"] != "survey"]
    assert all(c["due_date"] for c in emailed)
    assert all(c["due_date"] is None for c in complaints if c["channel"] == "survey" and not c["flags"])  # Code 1.6


def test_gas_smell_is_due_within_24_hours(sample_store: str) -> None:
    hazards = rows(sample_store, "--flag", "emergency_hazard")
    gas = [h for h in hazards if "gas" in h["subject"].lower()]
    assert gas and gas[0]["due_what"].startswith("make safe within 24 hours")
    received = date.fromisoformat(gas[0]["received_at"][:10])
    assert (date.fromisoformat(gas[0]["due_date"]) - received).days <= 1


def test_filters_area_overdue_and_due_within(sample_store: str) -> None:
    repairs = rows(sample_store, "--area", "repairs and maintenance")
    assert repairs and {r["queue"] for r in repairs} == {"Repairs and Maintenance"}
    overdue = rows(sample_store, "--overdue", "--today", "2026-11-10")
    assert overdue and all(o["due_date"] < "2026-11-10" for o in overdue)
    soon = rows(sample_store, "--due-within", "2", "--today", "2026-11-10")
    assert all(s["due_date"] <= "2026-11-12" for s in soon) and len(soon) > len(overdue)


def test_ghost_stage_language_in_the_sample_is_flagged(sample_store: str) -> None:
    ghosts = rows(sample_store, "--flag", "ghost_stage")
    assert any("informal_stage_language" in {f["rule"] for f in g["flags"]} for g in ghosts)


def test_plain_output_marks_overdue(sample_store: str) -> None:
    result = CliRunner().invoke(cli, ["queue", "--store", sample_store, "--overdue", "--today", "2026-11-20"])
    assert result.exit_code == 0 and "OVERDUE" in result.stdout
    empty = CliRunner().invoke(
        cli, ["queue", "--store", sample_store, "--kind", "compliment", "--overdue", "--today", "2026-11-20"]
    )
    assert "Nothing in this queue." in empty.stdout
