"""Cases, references and events written straight into the tables, for the learning tests
(triage.cases records them in real use)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, insert

from triage.cases.rules import normalise_reference
from triage.store.schema import case_events, case_refs, cases

DATA = Path(__file__).resolve().parent / "data"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def make_case(
    conn: Connection,
    themes: list[str],
    refs: tuple[str, ...] = (),
    events: tuple[tuple[str, str, date], ...] = (),
    merged_into: int | None = None,
    stage: str = "stage_1",
) -> int:
    pk = conn.execute(
        insert(cases).values(resident="r@example.com", stage=stage, themes=themes, merged_into=merged_into, updated_at=NOW)
    ).inserted_primary_key[0]
    for ref in refs:
        conn.execute(insert(case_refs).values(case_pk=pk, ref=normalise_reference(ref)))
    for event, event_stage, on in events:
        conn.execute(
            insert(case_events).values(case_pk=pk, event=event, stage=event_stage, on=on, recorded_at=NOW, recorded_by="test")
        )
    return pk


def the_cases(conn: Connection) -> dict[str, int]:
    """Eight cases, A to H, with the complaints the hand-built log's known answer assumes:
    damp_mould 2, repairs 2, heating_gas 2 complaints in October to December 2026."""
    ids = {}
    ids["A"] = make_case(
        conn,
        ["damp_mould", "repairs"],
        ("CMP-1001",),
        (("received", "stage_1", date(2026, 10, 2)), ("responded", "stage_1", date(2026, 10, 16))),
    )
    ids["B"] = make_case(conn, ["damp_mould"], ("CMP-1002",), (("received", "stage_1", date(2026, 11, 3)),))
    ids["C"] = make_case(conn, ["heating_gas"], ("CMP-1003",), (("received", "stage_1", date(2026, 11, 10)),))
    ids["D"] = make_case(conn, ["repairs"], (), (("received", "stage_2", date(2026, 12, 1)),), stage="stage_2")
    ids["E"] = make_case(conn, ["staff_conduct"], ("CMP-0990",), (("received", "stage_1", date(2026, 9, 15)),))
    ids["F"] = make_case(
        conn, ["anti_social_behaviour"], (), (("received", "stage_1", date(2026, 10, 10)),), merged_into=ids["A"]
    )
    ids["H"] = make_case(  # escalated to stage 2 in December: a complaint in the period
        conn,
        ["heating_gas"],
        (),
        (
            ("received", "stage_1", date(2026, 9, 1)),
            ("responded", "stage_1", date(2026, 9, 14)),
            ("escalated", "stage_2", date(2026, 12, 2)),
        ),
    )
    ids["G"] = make_case(
        conn, ["communication"], (), (("received", "service_request", date(2026, 10, 10)),), stage="service_request"
    )
    return ids
