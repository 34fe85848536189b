"""``triage store copy``: a SQLite store moved into a real PostgreSQL, exactly once, resumable
after an interruption, and usable afterwards (new rows get new keys)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_email, sample_pipeline
from sqlalchemy import select

from triage.cases import merge_cases
from triage.cli import cli
from triage.errors import StoreError
from triage.ingest.email_parse import parse_email
from triage.message import Source
from triage.store.copy import copy_store
from triage.store.db import Store, as_utc
from triage.store.schema import cases, messages, metadata


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """The sample pipeline's store (messages, survey answers, classifications, cases), with one
    case merged into a newer one (a row that refers to a later row of its own table)."""
    path = sample_pipeline(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "triage.db") as store:
        with store.engine.connect() as conn:
            ids = sorted(conn.scalars(select(cases.c.id)))
        merge_cases(store, ids[-1], ids[0], by="test")
    return tmp_path / "triage.db"


def snapshot(store: Store) -> dict[str, list[tuple]]:
    out = {}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            (key,) = table.primary_key.columns
            rows = conn.execute(select(table).order_by(key)).mappings()
            out[table.name] = [tuple(as_utc(v) if hasattr(v, "tzinfo") else v for v in r.values()) for r in rows]
    return out


def test_a_copy_interrupted_then_run_again_holds_every_row_exactly_once(sqlite_path: Path, pg_url: str) -> None:
    class Interrupted(Exception):
        pass

    def stop_in_classifications(table: str, done: int) -> None:
        if table == "classifications":
            raise Interrupted

    with Store(sqlite_path) as src, Store(pg_url) as dst:
        with pytest.raises(Interrupted):
            copy_store(src, dst, batch=7, progress=stop_in_classifications)
        resumed = copy_store(src, dst, batch=7)
        assert resumed.skipped["messages"] == src.count("messages") and resumed.copied["messages"] == 0
        assert resumed.skipped["classifications"] == 7 and resumed.copied["classifications"] == src.count("classifications") - 7
        again = copy_store(src, dst, batch=7)
        assert sum(again.copied.values()) == 0
        before = snapshot(src)
        assert snapshot(dst) == before
        with dst.engine.connect() as conn:  # the merged case points at the newer one it lives in
            assert len(conn.execute(select(cases.c.id).where(cases.c.merged_into.is_not(None))).all()) == 1
        # The target is usable: a new message gets the next key, its classification too.
        top = dst.count("messages")
        counts = dst.add([parse_email(make_email(message_id="<after-copy@example.com>"), Source("file", path="x.eml"))])
        assert counts.stored == 1
        with dst.engine.connect() as conn:
            assert conn.scalar(select(messages.c.id).where(messages.c.message_id == "<after-copy@example.com>")) == top + 1
        assert dst.count("classifications") == src.count("classifications")


def test_the_cli_copies_and_refuses_a_target_holding_other_mail(sqlite_path: Path, pg_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["store", "copy", str(sqlite_path), pg_url, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Copied" in result.output and "0 were there already" in result.output
    again = CliRunner().invoke(cli, ["store", "copy", str(sqlite_path), pg_url, "--quiet"])
    assert again.exit_code == 0 and "Copied 0 row(s)" in again.output

    other = tmp_path / "other.db"
    with Store(other) as store:
        store.add([parse_email(make_email(message_id="<other@example.com>"), Source("file", path="y.eml"))])
    refused = CliRunner().invoke(cli, ["store", "copy", str(other), pg_url, "--quiet"])
    assert refused.exit_code == 1
    assert "already holds other messages" in refused.output


def test_a_store_is_not_copied_onto_itself(sqlite_path: Path) -> None:
    with Store(sqlite_path) as a, Store(sqlite_path) as b, pytest.raises(StoreError, match="the same store"):
        copy_store(a, b)
