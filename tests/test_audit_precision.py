"""The register audit's precision and recall on labelled registers written for it.

Each row of tests/data/audit-labelled.csv and tests/data/audit-heldout.csv was written one by one
in a register's third-person voice, with its answer: ``ghost`` (a complaint handled outside the
two formal stages) and ``earlier`` (a formal-stage row that mentions an earlier informal stage).
The held-out register was written after the audit's rules were settled and never used to tune
them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import ROOT

from triage.classify.service import load_model
from triage.route.audit import AuditResult, audit, load_map
from triage.route.audit_rules import dissatisfaction_cues, neighbour_dispute, new_text

DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_model(None)[0]


def score(result: AuditResult, path: Path) -> tuple[float, float]:
    labels = {r["reference"]: r["ghost"] == "yes" for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))}
    assert len(result.entries) == len(labels)
    tp = sum(e.ghost and labels[e.reference] for e in result.entries)
    fp = sum(e.ghost and not labels[e.reference] for e in result.entries)
    fn = sum(not e.ghost and labels[e.reference] for e in result.entries)
    return tp / (tp + fp), tp / (tp + fn)


@pytest.mark.parametrize("name", ["audit-labelled.csv", "audit-heldout.csv"])
def test_precision_and_recall_at_least_ninety_percent(model, name: str) -> None:  # type: ignore[no-untyped-def]
    path = DATA / name
    precision, recall = score(audit(path, load_map(None), model), path)
    assert precision >= 0.90 and recall >= 0.90, (precision, recall)


def test_an_earlier_informal_stage_is_reported_apart_linked_to_its_row(model) -> None:  # type: ignore[no-untyped-def]
    path = DATA / "audit-labelled.csv"
    result = audit(path, load_map(None), model)
    expected = {r["reference"] for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))) if r["earlier"] == "yes"}
    assert {e.reference for e in result.earlier} == expected
    assert not any(e.ghost for e in result.earlier)
    listed = {x["reference"]: x for x in result.as_json()["earlier_ghost_stages"]}
    assert listed["C1-7402"]["evidence"] == ["stage 0"] and listed["C1-7402"]["row"] == 49  # the record number (Excel's row)


def test_the_rules_read_what_the_complaints_lead_pointed_at() -> None:
    assert dissatisfaction_cues("Tenant chasing again: any update?? Still no hot water.")
    assert dissatisfaction_cues("Oh brilliant, another missed appointment. Thanks for nothing.")
    assert dissatisfaction_cues("Rubbish. Nobody turned up.")
    assert not dissatisfaction_cues("Tenant asks for the grass to be cut. She is not making a complaint.")
    assert not dissatisfaction_cues("Tenant reports a dripping tap; any weekday is fine.")
    assert neighbour_dispute("The neighbour upstairs plays loud music at night.")
    assert not neighbour_dispute("Reported the neighbour's dog five times; the officer promised to visit and never did.")
    thread = "Can we move the visit to Friday?\n\nOn 2 Feb 2024, Gemma wrote:\n> Disgusted. I want to complain."
    assert new_text(thread) == "Can we move the visit to Friday?"
