"""The store on real SQLite and real PostgreSQL: dedupe, quarantine, attachments, migrations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import make_email
from sqlalchemy import create_engine, insert, text

from triage.errors import StoreError
from triage.ingest.email_parse import parse_email
from triage.message import Message, Quarantined, Source
from triage.store import migrate
from triage.store.db import Store
from triage.store.schema import runs


def msg(**kwargs: str) -> Message:
    item = parse_email(make_email(**kwargs), Source("file", path="t.eml"))
    assert isinstance(item, Message)
    return item


def test_store_and_read_back(store: Store) -> None:
    m = msg()
    counts = store.add([m])
    assert counts.as_dict() == {"seen": 1, "stored": 1, "duplicates": 0, "quarantined": 0}
    row = store.message(1)
    assert row is not None
    assert row["raw"] == m.raw and row["subject"] == "Leak under the sink"
    assert row["received_at"] == m.received_at and row["source_detail"] == {"type": "file", "path": "t.eml"}


def test_same_bytes_or_same_message_id_is_stored_once(store: Store) -> None:
    first = msg()
    same_id_other_bytes = msg(body="A different body, same Message-ID")
    no_id = msg(message_id=None)
    counts = store.add([first, first, same_id_other_bytes, no_id])
    assert counts.as_dict() == {"seen": 4, "stored": 2, "duplicates": 2, "quarantined": 0}
    again = store.add([first, no_id])
    assert again.as_dict() == {"seen": 2, "stored": 0, "duplicates": 2, "quarantined": 0}
    assert store.count() == 2


def test_quarantine_keeps_bytes_and_reason_once(store: Store) -> None:
    q = Quarantined(Source("file", path="bad.eml"), "not an email message", b"\x00garbage\xff")
    assert store.add([q, q]).as_dict() == {"seen": 2, "stored": 0, "duplicates": 1, "quarantined": 1}
    [row] = store.quarantined()
    item = store.quarantine_item(row["id"])
    assert item is not None and item["raw"] == b"\x00garbage\xff" and item["reason"] == "not an email message"


def test_nul_bytes_and_lone_surrogates_in_text_are_stored(store: Store) -> None:
    m = msg()
    m.subject, m.body_new = "bad\x00subject", "text with a lone \udce2 surrogate"
    store.add([m])
    row = store.message(1)
    assert row is not None and row["subject"] == "badsubject" and "surrogate" in row["body_new"]


def test_attachments_are_stored_with_content(store: Store) -> None:
    from email.message import EmailMessage

    e = EmailMessage()
    e["From"], e["Subject"], e["Message-ID"] = "a@example.com", "photo", "<p@x>"
    e.set_content("see photo")
    e.add_attachment(b"JPEGDATA", maintype="image", subtype="jpeg", filename="damp.jpg")
    item = parse_email(e.as_bytes(), Source("file", path="p.eml"))
    store.add([item])
    row = store.message(1)
    assert row is not None and row["attachments"] == [{"filename": "damp.jpg", "content_type": "image/jpeg", "size": 8}]


def test_a_store_from_the_first_schema_version_upgrades_without_loss(tmp_path: Path) -> None:
    """Create the store at every earlier revision, put a message in, open it with this triage."""
    from alembic.script import ScriptDirectory

    revisions = [r.revision for r in ScriptDirectory(str(migrate.MIGRATIONS)).walk_revisions()][::-1]
    for revision in revisions:
        path = tmp_path / f"old-{revision}.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            migrate.upgrade_to_head(conn, revision)
            conn.execute(
                insert(runs).values(
                    pipeline="old", started_at=datetime(2026, 1, 1), seen=1, stored=1, duplicates=0, quarantined=0
                )
            )
        engine.dispose()
        with Store(path) as store:
            assert store.count("runs") == 1
            with store.engine.connect() as conn:
                assert migrate.current_revision(conn) == migrate.head_revision()


def test_a_store_from_a_newer_triage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="made by a newer triage"):
        Store(path)


def test_store_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="the folder for the store does not exist"):
        Store(tmp_path / "nope" / "triage.db")


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="could not open the store"):
        Store("postgresql://nobody@127.0.0.1:1/none")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migrations_build_the_tables_schema_py_describes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """schema.py is what the code reads; the migrations are what stores get. They must agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from triage.store.schema import metadata

    url = str(tmp_path / "m.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Store(url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "compare_server_default": False})
        diffs = [d for d in compare_metadata(context, metadata) if not (isinstance(d, tuple) and d[1:2] == ("alembic_version",))]
    assert diffs == []


def test_a_new_sqlite_store_has_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """Messages are ~25 KB: a new store uses 16 KB pages (fewer overflow pages to write); a store
    made with SQLite's default 4 KB pages opens, reads and writes as before with them."""
    from triage.store.db import SQLITE_PAGE_SIZE

    with Store(tmp_path / "new.db") as store:
        store.add([msg()])
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE == 16384
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("CREATE TABLE made_earlier (x INTEGER)")
    engine.dispose()
    with Store(old) as store:
        assert store.add([msg()]).stored == 1 and store.count() == 1
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096


def test_opening_a_store_found_locked_for_a_moment_tries_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes creating one new SQLite store at once: one may find it locked without
    waiting (seen once in test_concurrency under load); it opens it on a second try."""
    from sqlalchemy.exc import OperationalError

    real_at_head, calls = migrate.at_head, []

    def locked_once(conn):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return real_at_head(conn)

    monkeypatch.setattr(migrate, "at_head", locked_once)
    with Store(tmp_path / "new.db") as store:
        assert store.add([msg()]).stored == 1 and len(calls) == 2
