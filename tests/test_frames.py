"""triage.frames: DataFrames with the report's definitions give the report's figures."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT
from test_published_report import AS_AT, END, START, published  # noqa: F401  (the fixture)

from triage import frames
from triage.report import make_report
from triage.report.figures import Report

sys.path.insert(0, str(ROOT / "benchmarks"))
from report import fill_store


def test_cases_give_ch01_ch02_and_outcomes_on_both_bases(published: tuple[Report, Path]) -> None:  # noqa: F811
    tmp = published[1]
    c = frames.cases(START, END, register=tmp / "complaints-register-2023-24.csv", map_file=tmp / "map.toml")
    stage1 = c[c.stage == 1]
    assert len(stage1[stage1.received_in_range]) == 36 and stage1.reopenings.sum() == 1  # CH01's count
    answered = stage1[stage1.responded_in_range]
    assert round(answered.within_with_extension.mean() * 100, 2) == 94.29  # CH02, the TSM basis
    received = stage1[stage1.received_in_range]
    assert round(received.within_with_extension.mean() * 100, 2) == 91.67  # the received basis
    assert round((received.outcome == "upheld").mean() * 100, 2) == 52.78
    assert received.acknowledged_within.all()
    figures = {f.id: f.value for f in published[0].figures}
    assert figures["ch02_stage1"] == round(answered.within_with_extension.mean() * 100, 2)


def test_learning_to_date_and_by_period_end(published: tuple[Report, Path]) -> None:  # noqa: F811
    outcomes = frames.learning(published[1] / "triage.db", START, END, as_at=AS_AT)
    assert len(outcomes) == 41
    assert (outcomes.status_at_period_end == "implemented").sum() == 32
    assert (outcomes.status_as_at == "implemented").sum() == 34
    assert outcomes.past_target_at_period_end.sum() == 3


def test_messages_count_what_the_report_counts(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    fill_store(str(db), 3000, start=date(2025, 4, 1), end=date(2025, 6, 30))
    m = frames.messages(db, date(2025, 4, 1), date(2025, 5, 31))
    report = make_report(date(2025, 4, 1), date(2025, 5, 31), store=str(db))
    assert len(m) == {f.id: f.value for f in report.figures}["contacts"]
    volumes = report.table("volumes_by_kind")
    assert (m.kind == "complaint").sum() == volumes.rows[-1][volumes.columns.index("Complaint")]
    assert list(m.columns) == frames.MESSAGE_COLUMNS and m.received_on.min() >= date(2025, 4, 1)
    stored = frames.cases(date(2025, 4, 1), date(2025, 5, 31), store=db)
    assert len(stored[(stored.stage == 1) & stored.received_in_range]) == {f.id: f.value for f in report.figures}["stage1"]


def test_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    from triage.errors import InputError

    with pytest.raises(InputError, match="no such store"):
        frames.messages(tmp_path / "nope.db", date(2025, 4, 1), date(2025, 5, 31))
