"""Retention and backups on real SQLite and PostgreSQL: purge removes what residents wrote from
long-closed cases and keeps every count the report shows, never touches an open case, and
records itself; a backup restored into a new store holds exactly what the store held."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import link_cases
from sqlalchemy import func, select

from triage.cases.history import Event
from triage.cases.records import record_event
from triage.cli import cli
from triage.errors import InputError
from triage.learning import add_commitment
from triage.review.auth import add_user
from triage.review.decisions import confirm
from triage.store.db import Store
from triage.store.retention import PURGED, purge, purges_done
from triage.store.schema import attachments, case_messages, cases, classifications, messages, metadata, reviews

TODAY = date(2026, 12, 7)
BEFORE = date(2026, 12, 1)


def _fill(store: Store, review_sample: list[tuple[Any, dict]]) -> dict[str, int]:
    """The review sample, classified and on cases; one case closed on 30 November (before the cut-off),
    one closed after the cut-off, the rest open; a note, a commitment and a user."""
    store.add([m for m, _ in review_sample])
    with store.engine.connect() as conn:
        pks = dict(conn.execute(select(messages.c.sha256, messages.c.id)).all())
    store.add_classifications("default", "0" * 64, [(pks[m.sha256], p) for m, p in review_sample])
    link_cases(store, review_sample)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(cases.c.id, cases.c.stage, func.count())
            .join(case_messages)
            .group_by(cases.c.id, cases.c.stage)
            .order_by(cases.c.id)
        ).all()
        with_attachment = conn.scalar(select(attachments.c.message_pk))
        attached_case = conn.scalar(select(case_messages.c.case_pk).where(case_messages.c.message_pk == with_attachment))
    stages = {pk: stage for pk, stage, _ in rows}
    old = attached_case if attached_case is not None else rows[0][0]
    recent = next(pk for pk in stages if pk != old)
    for pk, on, reason in ((old, date(2026, 11, 30), "Ms Jones satisfied"), (recent, date(2026, 12, 2), "Mr Ali satisfied")):
        stage = stages[pk] if stages[pk] in ("service_request", "stage_1", "stage_2") else "service_request"
        record_event(store, pk, Event("closed", stage, on, reason=reason, recorded_by="jo"))
    user = add_user(store, "jo", "a long passphrase here", "admin")
    with store.engine.connect() as conn:
        on_old = conn.scalar(select(case_messages.c.message_pk).where(case_messages.c.case_pk == old))
    confirm(store, on_old, user, 0, note="Spoke to Ms Jones at 12 Acacia Road")
    add_commitment(store, old, "Replace Ms Jones's back door", "repair", due=date(2026, 1, 20), by="jo")
    return {"old": old, "recent": recent}


def _snapshot(store: Store) -> dict[str, list[tuple]]:
    with store.engine.connect() as conn:
        return {
            t.name: sorted(tuple(repr(v) for v in r) for r in conn.execute(select(t)).all())
            for t in metadata.sorted_tables
            if t.name != "sign_in_attempts"
        }


def _report_tables(store: Store) -> list[Any]:
    from triage.report import make_report
    from triage.report.json_out import as_json

    report = make_report(date(2025, 10, 1), date(2026, 12, 31), by="quarter", store=store.url)
    data = as_json(report)
    # every section but the excerpts, which stop quoting purged messages (that is the point)
    return [(s["id"], s["tables"]) for s in data["sections"] if s["id"] != "excerpts"]


def test_purge_removes_what_residents_wrote_from_long_closed_cases_and_keeps_the_counts(
    store: Store, review_sample: list[tuple[Any, dict]]
) -> None:
    ids = _fill(store, review_sample)
    before_report = _report_tables(store)
    before = _snapshot(store)
    with store.engine.connect() as conn:
        open_messages = set(conn.scalars(select(case_messages.c.message_pk).where(case_messages.c.case_pk != ids["old"])))
        old_messages = set(conn.scalars(select(case_messages.c.message_pk).where(case_messages.c.case_pk == ids["old"])))
        no_case = set(conn.scalars(select(messages.c.id).where(messages.c.id.not_in(select(case_messages.c.message_pk)))))
        attachment_count = conn.scalar(
            select(func.count()).select_from(attachments).where(attachments.c.message_pk.in_(old_messages | no_case))
        )

    dry = purge(store, BEFORE, "jo", dry_run=True, today=TODAY)
    assert dry.case_ids == [ids["old"]] and dry.messages == len(old_messages | no_case) > 0
    assert dry.attachments == attachment_count and dry.bytes > 0
    assert _snapshot(store) == before and purges_done(store) == []  # a dry run changes nothing

    done = purge(store, BEFORE, "jo", today=TODAY)
    assert done.as_json() | {"dry_run": True} == dry.as_json()
    with store.engine.connect() as conn:
        purged = conn.execute(select(messages).where(messages.c.id.in_(old_messages | no_case))).mappings().all()
        assert all(m["subject"] == m["body_new"] == m["sender_addr"] == "" and m["raw"] == b"" and m["purged_at"] for m in purged)
        assert conn.scalar(select(func.count()).select_from(attachments).where(attachments.c.message_pk.in_(old_messages))) == 0
        assert conn.scalar(select(reviews.c.note)) == ""
        evidence = conn.scalars(select(classifications.c.evidence).where(classifications.c.message_pk.in_(old_messages))).all()
        assert evidence and all(e == [] for e in evidence)
        case = conn.execute(select(cases).where(cases.c.id == ids["old"])).mappings().one()
        assert case["resident"] == "" and case["stage"] == "closed" and case["purged_at"] is not None
        kept = conn.execute(select(messages.c.id, messages.c.body_new).where(messages.c.id.in_(open_messages))).all()
        assert kept and all(body for _, body in kept)  # open (and recently closed) cases untouched
    after = _snapshot(store)
    assert after["case_events"] != before["case_events"] and "Ms Jones" not in repr(after)
    for table in ("cases", "messages"):  # rows kept, only their text changed
        assert len(after[table]) == len(before[table])
    commitment = after["commitments"][0]
    assert repr(PURGED) in commitment
    assert _report_tables(store) == before_report  # every count the report shows is the same
    [record] = purges_done(store)
    assert (record["cases"], record["messages"], record["case_ids"], record["by"]) == (1, done.messages, [ids["old"]], "jo")
    again = purge(store, BEFORE, "jo", today=TODAY)
    assert (again.case_ids, again.messages) == ([], 0)  # idempotent


def test_purge_refuses_a_future_date(sqlite_store: Store) -> None:
    with pytest.raises(InputError, match="in the future"):
        purge(sqlite_store, date(2099, 1, 1), "jo", today=TODAY)


def test_purge_command_uses_the_pipeline_retention_period(tmp_path: Path) -> None:
    from conftest import sample_pipeline

    pipeline = sample_pipeline(tmp_path)
    result = CliRunner().invoke(cli, ["purge", "--pipeline", str(pipeline), "--dry-run"])
    assert result.exit_code == 1 and "sets no [retention] closed_cases_days" in result.output
    pipeline.write_text(pipeline.read_text() + "\n[retention]\nclosed_cases_days = 2190\n")
    result = CliRunner().invoke(cli, ["purge", "--pipeline", str(pipeline), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["dry_run"] and counts["cases"] == 0
    result = CliRunner().invoke(cli, ["purge", "--store", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "give --before DATE" in result.output


@pytest.fixture
def restore_target(store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty place to restore into, on the same backend as ``store``."""
    if store.is_sqlite:
        return str(tmp_path / "restored" / "triage.db")
    import uuid

    import psycopg

    server = request.getfixturevalue("pg_server")  # pg_url would hand back the store's own database
    name = "r_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def test_backup_and_restore_round_trip_loses_nothing(
    store: Store, review_sample: list[tuple[Any, dict]], tmp_path: Path, restore_target: str
) -> None:
    from triage.store.backup import backup, restore

    _fill(store, review_sample)
    purge(store, BEFORE, "jo", today=TODAY)  # a purge record and purged rows travel too
    source_url = store.url
    out = tmp_path / "backups" / "triage.backup"
    result = backup(source_url, out)
    assert out.is_file() and result.bytes > 0
    with pytest.raises(InputError, match="already exists"):
        backup(source_url, out)
    if store.is_sqlite:
        Path(restore_target).parent.mkdir()
    restore(out, restore_target)
    with Store(restore_target) as restored:
        assert _snapshot(restored) == _snapshot(store)
    with pytest.raises(InputError, match=r"already exists|not empty"):
        restore(out, restore_target)


def test_backup_and_restore_commands_on_a_store_in_use(
    sqlite_store: Store, review_sample: list[tuple[Any, dict]], tmp_path: Path
) -> None:
    _fill(sqlite_store, review_sample)
    db = sqlite_store.url.removeprefix("sqlite:///")
    with sqlite_store.engine.connect() as held:  # another process's open connection
        held.execute(select(func.count()).select_from(messages)).scalar()
        result = CliRunner().invoke(cli, ["backup", str(tmp_path / "b.db"), "--store", db])
    assert result.exit_code == 0 and "Backed up the sqlite store" in result.output
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "b.db"), "--store", str(tmp_path / "r.db")])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "r.db") as restored:
        assert _snapshot(restored) == _snapshot(sqlite_store)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(cli, ["restore", str(tmp_path / "junk.db"), "--store", str(tmp_path / "r2.db")])
    assert result.exit_code == 1 and "not a triage SQLite backup" in result.output
