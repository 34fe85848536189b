"""Learning outcomes: the store functions on both backends, the log import/export round trip
(CSV and XLSX, default columns and a map file), bad rows, and the report's learning tables
against a hand-built log with a known answer (tests/data/learning-log.csv)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from learning_data import DATA, make_case, the_cases
from sqlalchemy import update

from triage.errors import ColumnError, ConfigError, InputError
from triage.labels import ACTION_TYPES, OUTCOME_STATUSES, RISKS, THEMES
from triage.learning import add_commitment, close_commitment
from triage.learning.figures import figures_from, learning_figures, load_records
from triage.learning.io import export_log, import_log, load_map, read_log, write_rejects
from triage.learning.records import (
    CaseLink,
    Outcome,
    add_outcome,
    drop_outcome,
    get_outcome,
    list_outcomes,
    mark_implemented,
    normalise_theme,
    save_outcome,
)
from triage.store.db import Store
from triage.store.schema import commitments


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _outcome(**changes: object) -> Outcome:
    fields: dict[str, object] = {
        "description": "Mould reports closed without an inspection",
        "action": "Inspect every mould report within 10 working days",
        "action_type": "process",
        "service_area": "Repairs and Maintenance",
        "theme": "damp_mould",
        "risk": "red",
        "identified": date(2026, 11, 2),
        "target_date": date(2027, 1, 29),
    }
    fields.update(changes)
    return Outcome(**fields)  # type: ignore[arg-type]


def test_record_link_list_implement_and_drop(store: Store) -> None:
    with store.transaction() as conn:
        ids = the_cases(conn)
    refs = ["1", "cmp-1002", "#6", "NOPE-1"]  # an id, a reference in another case, a merged case, no case
    first = add_outcome(store, _outcome(cases=[CaseLink(r) for r in refs]), "jo", known_cases_only=False)
    assert first.reference == "LO-0001"
    assert [(c.ref, c.case_pk) for c in first.cases] == [
        ("1", ids["A"]),
        ("cmp-1002", ids["B"]),
        ("#6", ids["A"]),
        ("NOPE-1", None),
    ]
    second = add_outcome(store, _outcome(reference="NB-7", risk="amber", theme="", service_area="Tenancy Services"), "jo")
    assert second.reference == "NB-7"
    with pytest.raises(InputError, match="already a learning outcome NB-7"):
        add_outcome(store, _outcome(reference="NB-7"), "jo")
    with pytest.raises(InputError, match="risk 'pink' is not one of red, amber, green"):
        add_outcome(store, _outcome(risk="pink"), "jo")

    assert [o.reference for o in list_outcomes(store, risk="red")] == ["LO-0001"]
    assert [o.reference for o in list_outcomes(store, area="tenancy services")] == ["NB-7"]
    assert [o.reference for o in list_outcomes(store, case_pk=ids["A"])] == ["LO-0001"]
    assert [o.reference for o in list_outcomes(store, past_target_on=date(2027, 2, 1))] == ["LO-0001", "NB-7"]

    done = mark_implemented(store, "LO-0001", date(2027, 1, 20), "sam")
    assert done.status == "implemented" and get_outcome(store, "1").implemented == date(2027, 1, 20)
    assert list_outcomes(store, past_target_on=date(2027, 2, 1))[0].reference == "NB-7"
    with pytest.raises(InputError, match="already implemented; it cannot be dropped"):
        drop_outcome(store, "LO-0001", "changed our minds", date(2027, 1, 21), "sam")
    dropped = drop_outcome(store, "NB-7", "Superseded by LO-0001", date(2027, 1, 21), "sam")
    assert dropped.status == "dropped" and dropped.status_on(date(2027, 1, 20)) == "open"
    with pytest.raises(InputError, match="was dropped"):
        mark_implemented(store, "NB-7", date(2027, 1, 22), "sam")
    with pytest.raises(InputError, match="there is no learning outcome LO-0099; `triage learning list` shows them"):
        get_outcome(store, "LO-0099")
    with store.transaction() as conn:  # a log whose references are numbers, or LO- like triage's own
        save_outcome(conn, _outcome(reference="1", description="Numbered 1 in the landlord's log"), "jo")
        save_outcome(conn, _outcome(reference="LO-0005"), "jo")
    assert get_outcome(store, "LO-0001").description == "Mould reports closed without an inspection"
    assert get_outcome(store, "1").description == "Numbered 1 in the landlord's log"  # a reference before a number
    assert add_outcome(store, _outcome(), "jo").reference == "LO-0005-1"  # id 5, LO-0005 taken
    with pytest.raises(InputError, match=r"there is no case NOPE-1, 99 \(by id or case reference\)"):
        add_outcome(store, _outcome(description="x", cases=[CaseLink("1"), CaseLink("NOPE-1"), CaseLink("99")]), "jo")
    assert [o.description for o in list_outcomes(store)].count("x") == 0  # nothing was recorded


def test_themes_are_read_however_a_log_writes_them() -> None:
    assert normalise_theme("Damp & mould") == normalise_theme("damp and mould") == "damp_mould"
    assert normalise_theme("Anti-social behaviour") == "anti_social_behaviour"
    assert normalise_theme("") == "" and normalise_theme("gardening") is None


def _stored(store: Store) -> list[dict[str, object]]:
    return [{k: v for k, v in o.as_dict().items() if k not in ("id", "source", "source_detail")} for o in list_outcomes(store)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_export_import_round_trips_with_the_default_columns(tmp_path: Path, suffix: str) -> None:
    with Store(tmp_path / "a.db") as a, a.transaction() as conn:
        result = import_log(conn, DATA / "learning-log.csv", load_map(None), "jo")
        assert (result.added, result.updated, result.unchanged, result.bad_rows) == (13, 0, 0, [])
    with Store(tmp_path / "a.db") as a:
        add_outcome(a, _outcome(description="=1+1 is not a formula", cases=[CaseLink("CMP-1")]), "jo", known_cases_only=False)
        drop_outcome(a, "LO-0014", "Covered by LO-101", date(2026, 12, 3), "jo")
        export_log(list_outcomes(a), tmp_path / f"out{suffix}", load_map(None))
        before = _stored(a)
    with Store(tmp_path / "b.db") as b:
        with b.transaction() as conn:
            again = import_log(conn, tmp_path / f"out{suffix}", load_map(None), "jo")
        assert (again.added, again.bad_rows) == (14, [])
        assert _stored(b) == before
    lo102 = next(o for o in before if o["reference"] == "LO-102")
    assert lo102["theme"] == "damp_mould" and lo102["implemented"] == "2026-12-10" and lo102["risk"] == "red"
    lo14 = next(o for o in before if o["reference"] == "LO-0014")
    assert (lo14["status"], lo14["dropped_on"], lo14["description"]) == ("dropped", "2026-12-03", "=1+1 is not a formula")
    lo103 = next(o for o in before if o["reference"] == "LO-103")
    assert lo103["service_area"] == "Repairs and Maintenance"  # as the routing table spells it
    if suffix == ".csv":
        rows = _csv(tmp_path / "out.csv")
        assert rows[0] == _csv(DATA / "learning-log.csv")[0]


def test_importing_a_log_again_updates_it_and_adds_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    with sqlite_store.transaction() as conn:
        first = import_log(conn, DATA / "learning-log.csv", load_map(None), "jo")
    assert len(first.unmatched_cases) == 7  # no cases yet: every reference kept as text
    with sqlite_store.transaction() as conn:
        the_cases(conn)
    text = (DATA / "learning-log.csv").read_text().replace("LO-103,4,Leak", "LO-103,4;CMP-1003,Leak")
    text = text.replace("2026-12-01,open,,,\nLO-104", "2026-12-01,implemented,2026-12-20,,\nLO-104")
    (tmp_path / "log.csv").write_text(text)
    with sqlite_store.transaction() as conn:
        result = import_log(conn, tmp_path / "log.csv", load_map(None), "sam")
    assert (result.added, result.updated, result.unchanged) == (0, 1, 12)
    lo103 = get_outcome(sqlite_store, "LO-103")
    assert lo103.status == "implemented" and [(c.ref, c.case_pk) for c in lo103.cases] == [("4", 4), ("CMP-1003", 3)]
    assert [u["case"] for u in result.unmatched_cases] == ["CMP-9999"]
    assert [c.case_pk for c in get_outcome(sqlite_store, "LO-104").cases] == [1, 3]  # unchanged, but linked now


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_map_file_reads_and_writes_another_layout(tmp_path: Path, suffix: str) -> None:
    learning_map = load_map(DATA / "learning-map.toml")
    with Store(tmp_path / "a.db") as a:
        with a.transaction() as conn:
            ids = the_cases(conn)
            result = import_log(conn, DATA / "learning-log-other.csv", learning_map, "jo")
        assert (result.added, result.bad_rows, result.unmatched_cases) == (3, [], [])
        nb1, nb2, nb3 = list_outcomes(a)
        assert (nb1.reference, nb1.risk, nb1.status, nb1.implemented, nb1.theme) == (
            "NB-1",
            "red",
            "implemented",
            date(2026, 11, 20),
            "damp_mould",
        )
        assert [(c.ref, c.case_pk) for c in nb2.cases] == [("CMP-1002", ids["B"]), ("CMP-1003", ids["C"])]
        assert (nb2.risk, nb2.status, nb2.target_date) == ("amber", "open", date(2027, 1, 29))
        assert (nb3.risk, nb3.theme, nb3.service_area) == ("green", "", "Customer Services")
        export_log(list_outcomes(a), tmp_path / f"out{suffix}", learning_map)
        before = _stored(a)
    with Store(tmp_path / "b.db") as b:
        with b.transaction() as conn:
            assert import_log(conn, tmp_path / f"out{suffix}", learning_map, "jo").added == 3
        assert _stored(b) == [{**o, "cases": [{**c, "case": None} for c in o["cases"]]} for o in before]  # b has no cases
    if suffix == ".csv":
        header, first = _csv(tmp_path / "out.csv")[:2]
        assert header[:4] == ["Ref", "Complaint refs", "What went wrong", "What we will change"]
        assert first[header.index("Risk")] == "High" and first[header.index("Progress")] == "Complete"


def test_bad_rows_are_reported_with_their_row_numbers_and_kept(sqlite_store: Store, tmp_path: Path) -> None:
    path = DATA / "learning-log-bad.csv"
    with sqlite_store.transaction() as conn:
        result = import_log(conn, path, load_map(None), "jo")
    assert (result.added, result.updated) == (2, 0)
    assert [(b["row"], b["reference"], b["reason"]) for b in result.bad_rows] == [
        (3, "LO-202", "no risk rating (red, amber or green)"),
        (4, "LO-203", "risk 'purple' is not one of red, amber, green"),
        (5, "", "no reference (a reference lets the log be imported again without adding it twice)"),
        (6, "LO-205", "identified 'next Tuesday' is not a date (use 2026-11-03 or 03/11/2026)"),
        (7, "LO-206", "theme 'gardening' is not one of triage's themes (" + ", ".join(THEMES) + ")"),
        (8, "LO-207", "dropped with no reason"),
        (9, "LO-201", "the same reference as row 2; give each outcome its own reference"),
    ]
    write_rejects(result, tmp_path / "rejected.csv", _csv(path)[0])
    kept = list(csv.DictReader(io.StringIO((tmp_path / "rejected.csv").read_text())))
    assert [r["row"] for r in kept] == ["3", "4", "5", "6", "7", "8", "9"]
    assert kept[3]["identified"] == "next Tuesday" and kept[3]["problem"].startswith("identified 'next Tuesday'")
    assert kept[2]["description"] == "No reference"


def test_a_missing_column_names_the_file_the_column_and_those_that_exist(tmp_path: Path) -> None:
    with pytest.raises(ColumnError, match=r"learning log column 'Ref' \(mapped as 'reference'\) is not in the file"):
        read_log(DATA / "learning-log.csv", load_map(DATA / "learning-map.toml"))
    (tmp_path / "m.toml").write_text('[values.risk]\nHigh = "scarlet"\n')
    with pytest.raises(InputError, match=r"\[values.risk\] maps 'High' to 'scarlet'"):
        load_map(tmp_path / "m.toml")
    (tmp_path / "m.toml").write_text('[columns]\nrefrence = "Ref"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'columns\.refrence'"):
        load_map(tmp_path / "m.toml")


def _cell(table: object, key: str) -> list[object]:
    return next(r for r in table.rows if r[0] == key)  # type: ignore[attr-defined]


def test_the_learning_tables_give_the_known_answer_for_the_hand_built_log(store: Store) -> None:
    with store.transaction() as conn:
        ids = the_cases(conn)
        assert import_log(conn, DATA / "learning-log.csv", load_map(None), "jo").added == 13
    A, B, D, E = ids["A"], ids["B"], ids["D"], ids["E"]
    made = [
        # case, made on, due, done on, evidence
        (A, date(2026, 10, 16), date(2026, 10, 30), date(2026, 10, 29), "job 1 done"),  # kept on time
        (A, date(2026, 10, 16), date(2026, 11, 6), date(2026, 11, 9), "job 2 done"),  # Fri due, done Mon: late
        (B, date(2026, 11, 17), date(2026, 12, 25), date(2026, 12, 29), ""),  # due Christmas Day: on time, no evidence
        (B, date(2026, 11, 17), date(2026, 12, 18), None, ""),  # open and overdue at 31 Dec
        (D, date(2026, 12, 15), date(2027, 1, 8), None, ""),  # open, not yet due
        (D, date(2026, 12, 15), date(2026, 12, 23), None, "cancel"),  # cancelled
        (E, date(2026, 9, 20), date(2026, 9, 30), date(2026, 9, 30), "call logged"),  # previous period, on time
    ]
    for case, made_on, due, done_on, evidence in made:
        c = add_commitment(store, case, "work", "repair", due=due, made_on=made_on, by="jo")
        if done_on:
            close_commitment(store, c.id, done_on, evidence=evidence, no_evidence=not evidence, by="jo")
        elif evidence == "cancel":
            with store.transaction() as conn:
                conn.execute(
                    update(commitments)
                    .where(commitments.c.id == c.id)
                    .values(status="cancelled", cancelled_reason="moved", closed_at=datetime(2026, 12, 20, tzinfo=UTC))
                )

    figures = learning_figures(store, date(2026, 10, 1), date(2026, 12, 31), as_at=date(2027, 3, 31))
    assert (figures.previous_start, figures.previous_end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert figures.by_risk.rows == [
        # risk, identified, implemented by 31 Dec and %, implemented to date (31 Mar 2027) and %, open, dropped
        ["red", 4, 2, 50.0, 2, 50.0, 2, 0],
        ["amber", 3, 1, 33.33, 2, 66.67, 1, 1],  # LO-107 implemented on 15 Jan 2027: after the period, before --as-at
        ["green", 3, 2, 66.67, 2, 66.67, 1, 0],
        ["total", 10, 5, 50.0, 6, 60.0, 4, 1],
    ]
    assert [r for r in figures.by_theme.rows if r[1] or r[2]] == [
        ["repairs", 2, 2, 1, 50.0, ""],
        ["damp_mould", 2, 2, 2, 100.0, ""],
        ["heating_gas", 2, 0, 0, None, "complaints, no learning"],
        ["contractor", 0, 1, 1, 100.0, ""],
        ["communication", 0, 2, 1, 50.0, ""],
        ["anti_social_behaviour", 0, 1, 0, 0.0, ""],
        ["complaint_handling", 0, 1, 0, 0.0, ""],
        ["(no theme)", 0, 1, 0, 0.0, ""],
    ]
    assert len(figures.by_theme.rows) == 16  # every theme is listed, learning or not
    assert figures.by_service_area.rows == [
        ["Complaints team", 1, 0, 0.0, 0],
        ["Customer Services", 1, 0, 0.0, 1],
        ["Neighbourhoods", 1, 0, 0.0, 0],
        ["Property Services", 1, 1, 100.0, 0],
        ["Repairs and Maintenance", 4, 3, 75.0, 2],
        ["Tenancy Services", 2, 1, 50.0, 0],
    ]
    assert [(r[0], r[1], r[4], r[5], r[6]) for r in figures.past_target.rows] == [
        ("LO-103", "red", "2026-12-01", 20, "4"),
        ("LO-091", "amber", "2026-09-30", 64, ""),
        ("LO-109", "green", "2026-12-04", 17, ""),
    ]
    assert figures.commitments.rows == [
        ["made", 6, 100.0],
        ["kept on time", 2, 33.33],
        ["kept late", 1, 16.67],
        ["open and overdue", 1, 16.67],
        ["open, not yet due", 1, 16.67],
        ["cancelled", 1, 16.67],
        ["closed without evidence of completion", 1, 16.67],
    ]
    assert figures.comparison.rows == [
        ["learning outcomes identified", 10, 3, 7],
        ["learning outcomes implemented", 5, 1, 4],
        ["implemented %", 50.0, 33.33, 16.67],
        ["red outcomes identified", 4, 1, 3],
        ["red outcomes implemented %", 50.0, 100.0, -50.0],
        ["open outcomes past target date (at period end)", 3, 0, 3],
        ["commitments made", 6, 1, 5],
        ["commitments kept on time %", 33.33, 100.0, -66.67],
        ["commitments open and overdue (at period end)", 1, 0, 1],
        ["commitments closed without evidence", 1, 0, 1],
    ]
    every = figures.as_dict()
    assert [t["id"] for t in every["tables"]] == [
        "learning_by_risk",
        "learning_by_theme",
        "learning_by_service_area",
        "learning_past_target",
        "commitments",
        "learning_comparison",
    ]
    assert all(t["definition"] and t["columns"] for t in every["tables"])
    assert json.loads(json.dumps(every)) == every  # plain cells: report.json takes it as it is


def test_the_report_can_pass_its_own_complaint_counts(sqlite_store: Store) -> None:
    with sqlite_store.transaction() as conn:
        make_case(conn, ["repairs"], events=(("received", "stage_1", date(2026, 10, 2)),))
    figures = figures_from(
        load_records(sqlite_store),
        date(2026, 10, 1),
        date(2026, 12, 31),
        complaints={"leasehold": 3},
        complaints_counted="stage 1 complaints received in the period",
    )
    assert _cell(figures.by_theme, "leasehold") == ["leasehold", 3, 0, 0, None, "complaints, no learning"]
    assert _cell(figures.by_theme, "repairs")[1] == 0
    assert "complaints, meaning stage 1 complaints received in the period;" in figures.by_theme.definition
    assert _cell(figures.by_risk, "total") == ["total", 0, 0, None, 0, None, 0, 0]


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.strip)
_ref = st.text(st.characters(whitelist_categories=("Lu", "Nd"), whitelist_characters="-/ "), min_size=1, max_size=12).map(
    str.strip
)


@st.composite
def _outcomes(draw: st.DrawFn) -> Outcome:
    identified = draw(st.dates(date(2000, 1, 1), date(2090, 1, 1)))
    status = draw(st.sampled_from(OUTCOME_STATUSES))
    later = st.none() | st.dates(identified, date(2099, 12, 31))
    return Outcome(
        reference=draw(_ref.filter(bool)),
        description=draw(_text.filter(bool)),
        action=draw(_text),
        action_type=draw(st.sampled_from(ACTION_TYPES)),
        service_area=" ".join(draw(_text).split()),
        theme=draw(st.sampled_from(("", *THEMES))),
        risk=draw(st.sampled_from(RISKS)),
        identified=identified,
        target_date=draw(later),
        status=status,
        implemented=draw(later) if status == "implemented" else None,
        dropped_on=draw(later) if status == "dropped" else None,
        dropped_reason=draw(_text.filter(bool)) if status == "dropped" else "",
        cases=[CaseLink(r) for r in dict.fromkeys(draw(st.lists(_ref.filter(bool), max_size=3)))],
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outcome=_outcomes())
def test_any_outcome_survives_export_and_import(tmp_path: Path, suffix: str, outcome: Outcome) -> None:
    path = tmp_path / f"log{suffix}"
    export_log([outcome], path, load_map(None))
    good, bad = read_log(path, load_map(None))
    assert bad == []
    back = good[0][1]
    fields = ("reference", "description", "action", "action_type", "theme", "risk", "identified", "target_date", "status")
    assert [getattr(back, f) for f in fields] == [getattr(outcome, f) for f in fields]
    assert (back.implemented, back.dropped_on, back.dropped_reason) == (
        outcome.implemented,
        outcome.dropped_on,
        outcome.dropped_reason,
    )
    assert [c.ref for c in back.cases] == [c.ref for c in outcome.cases]


def test_triage_report_carries_the_learning_section_in_html_xlsx_and_json(tmp_path: Path) -> None:
    import openpyxl

    from triage.report import make_report, write_report

    path = tmp_path / "t.db"
    with Store(path) as store, store.transaction() as conn:
        the_cases(conn)
        import_log(conn, DATA / "learning-log.csv", load_map(None), "jo")
    report = make_report(date(2026, 10, 1), date(2026, 12, 31), by="quarter", store=str(path), as_at=date(2026, 12, 31))
    files = write_report(report, tmp_path / "out")
    data = json.loads(files.json.read_text(encoding="utf-8"))
    section = next(s for s in data["sections"] if s["id"] == "learning")
    tables = {t["id"]: t for t in section["tables"]}
    assert tables["learning_by_risk"]["rows"][-1] == ["total", 10, 5, 50.0, 5, 50.0, 4, 1]  # as at the period end: the same
    themes = {r[0]: r for r in tables["learning_by_theme"]["rows"]}
    assert themes["Damp and mould"][1:5] == [2, 2, 2, 100.0]  # the report's stage 1 complaints: cases A and B
    assert themes["Heating and gas"][1:] == [1, 0, 0, None, "complaints, no learning"]  # case C (H escalated, not received)
    assert "as in the complaints section" in tables["learning_by_theme"]["definition"]
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    sheet = [list(r) for r in book["learning_by_risk"].iter_rows(values_only=True)]
    book.close()
    assert sheet[0] == tables["learning_by_risk"]["columns"] and sheet[1:] == tables["learning_by_risk"]["rows"]
    page = files.html.read_text(encoding="utf-8")
    assert "Learning from complaints" in page and "Open learning outcomes past their target date" in page


def test_a_report_on_a_register_alone_says_it_has_no_learning() -> None:
    from triage.report.figures import compute
    from triage.report.inputs import Inputs, make_periods

    report = compute(Inputs(make_periods(date(2026, 10, 1), date(2026, 12, 31), "month")))
    section = next(s for s in report.sections if s.id == "learning")
    assert section.tables == [] and "report over the store" in section.notes[0]


def test_a_case_label_names_a_case_and_a_bracketed_tag_a_reference(store: Store) -> None:
    from sqlalchemy import insert

    from triage.learning.records import resolve_case
    from triage.store.schema import case_refs

    with store.transaction() as conn:
        ids = the_cases(conn)
        conn.execute(insert(case_refs).values(case_pk=ids["C"], ref=f"#{ids['B']}"))  # a helpdesk tag [#<B's id>] on C
        assert resolve_case(conn, f"#{ids['B']}") == ids["B"]  # how triage labels a case
        assert resolve_case(conn, f"case #{ids['B']}") == resolve_case(conn, f"Case {ids['B']}") == ids["B"]
        assert resolve_case(conn, f"[#{ids['B']}]") == ids["C"]  # the tag as it appears in a subject
        assert resolve_case(conn, "cmp 1003") == ids["C"]
        assert resolve_case(conn, "#999") is None
