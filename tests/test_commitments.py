"""Commitments: tracked from the response, overdue on the right working day (bank holidays of
the landlord's nation), closed without evidence flagged, shown for a case; and the CLI for
commitments and learning outcomes through click's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from learning_data import DATA, make_case, the_cases
from sqlalchemy import insert

from triage.cli import cli
from triage.errors import InputError
from triage.learning import (
    CLOSED_WITHOUT_EVIDENCE,
    add_commitment,
    cancel_commitment,
    close_commitment,
    get_outcome,
    list_commitments,
    overdue_by_case,
    overdue_for_case,
)
from triage.learning.commitments import effective_due, get_commitment
from triage.store.db import Store
from triage.store.schema import case_events


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _responded(store: Store, on: date) -> int:
    with store.transaction() as conn:
        return make_case(
            conn, ["repairs"], events=(("received", "stage_1", on - timedelta(days=7)), ("responded", "stage_1", on))
        )


def test_due_in_working_days_after_the_response_and_overdue_the_day_after_across_christmas(sqlite_store: Store) -> None:
    case = _responded(sqlite_store, date(2026, 12, 24))  # Thursday; Fri 25 and Mon 28 Dec are bank holidays
    c = add_commitment(sqlite_store, case, "Call back about the repair date", "call_back", within=1, by="jo")
    assert c.made_on == date(2026, 12, 24) and c.due == date(2026, 12, 29)
    overdue_on = [d for d in _days(date(2026, 12, 24), date(2026, 12, 31)) if c.overdue(d)]
    assert overdue_on[0] == date(2026, 12, 30)
    assert c.flags(date(2026, 12, 30)) == ["overdue by 1 working day (due Tue 29 Dec 2026)"]


@pytest.mark.parametrize(
    ("nation", "due", "first_overdue"),
    [
        ("england", date(2026, 12, 25), date(2026, 12, 30)),  # due on Christmas Day: moves to Tue 29 Dec
        ("england", date(2027, 1, 1), date(2027, 1, 5)),  # New Year's Day: Mon 4 Jan is a working day in England
        ("scotland", date(2027, 1, 1), date(2027, 1, 6)),  # ... but a bank holiday in Scotland (2 Jan observed)
        ("england", date(2026, 11, 13), date(2026, 11, 16)),  # a Friday: not overdue at the weekend, overdue Monday
    ],
)
def test_a_due_date_on_a_closed_day_moves_to_the_next_working_day(
    sqlite_store: Store, nation: str, due: date, first_overdue: date
) -> None:
    case = _responded(sqlite_store, date(2026, 11, 2))
    c = add_commitment(sqlite_store, case, "Replace the back door", "repair", due=due, by="jo", nation=nation)
    days = _days(due - timedelta(days=3), first_overdue + timedelta(days=3))
    assert next(d for d in days if c.overdue(d, nation)) == first_overdue
    assert not c.overdue(due, nation) and c.late_by(first_overdue, nation) == 1
    assert effective_due(due, nation) < first_overdue


def test_not_tracked_until_a_response_is_recorded(sqlite_store: Store) -> None:
    with sqlite_store.transaction() as conn:
        case = make_case(conn, ["repairs"], events=(("received", "stage_1", date(2026, 11, 2)),))
    with pytest.raises(InputError, match="has no response recorded to count 10 working days from"):
        add_commitment(sqlite_store, case, "Inspect the roof", "inspection", within=10, by="jo")
    c = add_commitment(sqlite_store, case, "Inspect the roof", "inspection", due=date(2026, 11, 20), by="jo")
    assert c.made_on is None and not c.overdue(date(2027, 1, 4))
    assert overdue_for_case(sqlite_store, case, date(2027, 1, 4)) == []
    with sqlite_store.transaction() as conn:  # the response goes out; whatever date it was recorded
        conn.execute(
            insert(case_events).values(
                case_pk=case, event="responded", stage="stage_1", on=date.today(), recorded_at=datetime.now(UTC), recorded_by="jo"
            )
        )
    tracked = get_commitment(sqlite_store, c.id)
    assert tracked.made_on == date.today() and tracked.overdue(date.today() + timedelta(days=400))


def test_done_needs_evidence_or_is_flagged_closed_without_it(store: Store) -> None:
    case = _responded(store, date(2026, 11, 2))
    first = add_commitment(store, case, "Refund the rechargeable repair", "payment", due=date(2026, 11, 20), by="jo")
    second = add_commitment(store, case, "Fit a new extractor fan", "repair", due=date(2026, 11, 27), by="jo")
    third = add_commitment(store, case, "Call back", "call_back", due=date(2026, 11, 9), by="jo")
    with pytest.raises(InputError, match="--no-evidence, which flags it as closed without evidence of completion"):
        close_commitment(store, first.id, date(2026, 11, 18), by="sam")
    done = close_commitment(store, first.id, date(2026, 11, 18), evidence="BACS ref 77120", by="sam")
    assert done.status == "done" and not done.closed_without_evidence and done.flags(date(2026, 12, 1)) == []
    bare = close_commitment(store, second.id, date(2026, 11, 30), no_evidence=True, by="sam")
    assert bare.closed_without_evidence and bare.flags(date(2026, 12, 1)) == [CLOSED_WITHOUT_EVIDENCE]
    assert bare.late_by(date(2027, 1, 1)) == 1  # done Monday 30 Nov, due Friday 27 Nov
    with pytest.raises(InputError, match="commitment 2 is already done"):
        close_commitment(store, second.id, date(2026, 11, 30), evidence="x", by="sam")
    assert [c.id for c in overdue_for_case(store, case, date(2026, 11, 10))] == [third.id]
    assert {k: [c.id for c in v] for k, v in overdue_by_case(store, date(2026, 11, 10)).items()} == {case: [third.id]}
    cancel_commitment(store, third.id, "Resident asked for email instead", by="sam")
    assert overdue_for_case(store, case, date(2026, 11, 10)) == []
    assert [c.status for c in list_commitments(store, case_pk=case)] == ["cancelled", "done", "done"]


def test_a_merged_case_takes_its_commitments_to_the_case_it_joined(sqlite_store: Store) -> None:
    with sqlite_store.transaction() as conn:
        ids = the_cases(conn)
    c = add_commitment(sqlite_store, ids["F"], "Visit", "inspection", due=date(2026, 11, 20), made_on=date(2026, 11, 2), by="jo")
    assert c.case_pk == ids["A"]
    with pytest.raises(InputError, match="there is no case 99"):
        add_commitment(sqlite_store, 99, "Visit", "inspection", due=date(2026, 11, 20), by="jo")


# -- CLI -------------------------------------------------------------------------------------
def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "t.db"
    with Store(path) as store, store.transaction() as conn:
        the_cases(conn)
    return str(path)


def test_cli_commitment_add_list_done(db: str) -> None:
    code, out, _ = invoke("commitment", "add", "--case", "1", "--what", "Replace the back door", "--kind", "repair",
                          "--owner", "Repairs and Maintenance", "--within", "10", "--store", db, "--by", "jo")  # fmt: skip
    assert code == 0
    assert out == "Recorded commitment 1 on case 1: repair, due Fri 30 Oct 2026; made in the response of 16 Oct 2026.\n"
    code, out, _ = invoke("commitment", "list", "--overdue", "--today", "2026-11-02", "--store", db)
    assert out.splitlines() == [
        "#1     case 1      open       due Fri 30 Oct 2026  repair     Repairs and Maintenance  Replace the back door",
        "       OVERDUE BY 1 WORKING DAY (DUE FRI 30 OCT 2026)",
    ]
    code, out, _ = invoke("commitment", "list", "--overdue", "--today", "2026-10-31", "--store", db)
    assert out == "No commitments match.\n"
    code, _, err = invoke("commitment", "done", "1", "--store", db, "--by", "jo")
    assert code == 1 and err.startswith("Error: say how it is known to be done")
    code, out, _ = invoke("commitment", "done", "1", "--no-evidence", "--on", "2026-11-03", "--store", db, "--by", "jo")
    assert out == "Commitment 1 done on 03 Nov 2026; flagged: closed without evidence of completion.\n"
    code, out, _ = invoke("commitment", "list", "--no-evidence", "--json", "--store", db)
    record = json.loads(out)
    assert record["flags"] == [CLOSED_WITHOUT_EVIDENCE] and record["closed_by"] == "jo" and record["case"] == 1
    code, _, err = invoke(
        "commitment", "add", "--case", "2", "--what", "x", "--kind", "repair", "--within", "5", "--store", db, "--by", "jo"
    )
    assert code == 1 and "case 2 has no response recorded" in err


def test_cli_learning_add_list_done_drop(db: str) -> None:
    code, _, err = invoke("learning", "add", "--case", "1", "--case", "99", "--risk", "red", "--description", "x", "--store", db,
                          "--by", "jo")  # fmt: skip
    assert code == 1 and err.startswith("Error: there is no case 99 (by id or case reference)")
    code, out, _ = invoke("learning", "add", "--case", "1", "--case", "CMP 1002", "--risk", "red", "--area", "repairs and maintenance",
                          "--theme", "Damp and mould", "--description", "Mould reports closed without an inspection",
                          "--identified", "2026-11-02", "--target", "2026-11-30", "--store", db, "--by", "jo")  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "Recorded learning outcome LO-0001 (red).",
        "  case 1: case 1",
        "  case CMP 1002: case 2",
    ]
    code, out, _ = invoke("learning", "list", "--past-target", "--today", "2026-12-01", "--store", db)
    assert out.splitlines()[0].split() == [
        "LO-0001", "red", "open", "target", "30", "Nov", "2026", "PAST", "Repairs", "and", "Maintenance", "damp_mould",
        "cases", "1,", "CMP", "1002",
    ]  # fmt: skip
    code, _, err = invoke(
        "learning", "add", "--risk", "red", "--theme", "gardening", "--description", "x", "--store", db, "--by", "jo"
    )
    assert code == 1 and "--theme 'gardening' is not one of triage's themes" in err
    code, out, _ = invoke("learning", "done", "LO-0001", "--on", "2026-12-02", "--store", db, "--by", "jo")
    assert out == "Learning outcome LO-0001 implemented on 02 Dec 2026.\n"
    code, _, err = invoke("learning", "drop", "1", "--reason", "no", "--store", db, "--by", "jo")
    assert code == 1 and "already implemented" in err
    code, out, _ = invoke("learning", "list", "--status", "implemented", "--json", "--store", db)
    assert json.loads(out)["implemented"] == "2026-12-02"


def test_cli_learning_import_reports_bad_rows_and_keeps_them_then_exports(db: str, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text((DATA / "learning-log-bad.csv").read_text())
    code, out, _ = invoke("learning", "import", str(log), "--store", db, "--by", "jo")
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"{log}: 2 added, 0 updated, 0 unchanged, 7 not imported."
    assert lines[1] == "  row 3 (LO-202): no risk rating (red, amber or green)"
    assert lines[-1] == f"Rows not imported are kept in {tmp_path / 'log-rejected.csv'}: correct them there and import that file."
    assert (tmp_path / "log-rejected.csv").read_text().count("\n") == 8
    code, out, _ = invoke("learning", "import", str(log), "--store", db, "--json", "--by", "jo")
    assert json.loads(out)["unchanged"] == 2
    code, out, _ = invoke("learning", "export", str(tmp_path / "out.xlsx"), "--store", db)
    assert out == f"Written 2 learning outcomes to {tmp_path / 'out.xlsx'}.\n"
    with Store(db) as store:
        assert [c.case_pk for c in get_outcome(store, "LO-201").cases] == [1]
    code, out, _ = invoke("learning", "import", str(DATA / "learning-log-other.csv"), "--map", str(DATA / "learning-map.toml"),
                          "--store", db, "--by", "jo")  # fmt: skip
    assert code == 0 and "3 added" in out
    code, _, err = invoke("learning", "import", str(tmp_path / "nope.csv"), "--store", db, "--by", "jo")
    assert code == 1 and err == f"Error: {tmp_path / 'nope.csv'}: no such learning log file.\n"


def test_case_show_shows_an_overdue_commitment_and_the_cases_learning(db: str) -> None:
    invoke("commitment", "add", "--case", "1", "--what", "Replace the back door", "--kind", "repair", "--due", "2026-10-30",
           "--store", db, "--by", "jo")  # fmt: skip
    invoke("learning", "add", "--case", "CMP 1001", "--risk", "amber", "--description", "Door repairs not followed up",
           "--store", db, "--by", "jo")  # fmt: skip
    code, out, _ = invoke("case", "show", "1", "--today", "2026-11-03", "--store", db)
    assert code == 0
    lines = out.splitlines()
    start = lines.index("Commitments:")
    assert lines[start:] == [
        "Commitments:",
        "  #1     case 1      open       due Fri 30 Oct 2026  repair     -                        Replace the back door",
        "         OVERDUE BY 2 WORKING DAYS (DUE FRI 30 OCT 2026)",
        "Learning outcomes:",
        "  LO-0001 amber open: Door repairs not followed up",
    ]
    code, out, _ = invoke("case", "show", "1", "--today", "2026-10-30", "--store", db, "--json")
    shown = json.loads(out)
    assert shown["commitments"][0]["overdue"] is False and shown["learning_outcomes"][0]["reference"] == "LO-0001"


def test_an_overdue_commitment_is_shown_with_its_case_in_case_list(db: str) -> None:
    invoke("commitment", "add", "--case", "1", "--what", "Replace the back door", "--kind", "repair",
           "--due", "2026-10-30", "--store", db, "--by", "jo")  # fmt: skip
    code, out, _ = invoke("case", "list", "--today", "2026-11-02", "--store", db)
    assert code == 0
    assert "             OVERDUE COMMITMENT #1: Replace the back door (due 30 Oct)" in out.splitlines()
    code, out, _ = invoke("case", "list", "--today", "2026-10-30", "--store", db, "--json")
    assert all(json.loads(line)["overdue_commitments"] == [] for line in out.splitlines())
    code, out, _ = invoke("case", "list", "--today", "2026-11-02", "--store", db, "--json")
    by_case = {json.loads(line)["id"]: json.loads(line)["overdue_commitments"] for line in out.splitlines()}
    assert by_case[1] == [{"id": 1, "what": "Replace the back door", "due": "2026-10-30"}]
