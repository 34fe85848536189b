"""Every file of the shared real-world MIME corpus is stored or quarantined with a reason a
person can read; none raises, none is silently dropped; a second ingest stores nothing new."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from triage.ingest.files import iter_paths
from triage.jobs import ingest_paths
from triage.store.db import Store
from triage.store.schema import messages, quarantine


def test_corpus_is_stored_or_quarantined_and_idempotent(store: Store, corpus: Path) -> None:
    files = [str(p) for p in iter_paths([corpus])]
    first = ingest_paths(store, [corpus]).total
    assert first.seen == first.stored + first.duplicates + first.quarantined
    assert first.stored >= 90  # the corpus holds 99 mail items, some of them copies of each other

    with store.engine.connect() as conn:
        stored_paths = {d["path"] for d in conn.scalars(select(messages.c.source_detail))}
        held = {d["path"]: r for d, r in conn.execute(select(quarantine.c.source_detail, quarantine.c.reason))}
        stored_ids = set(conn.scalars(select(messages.c.message_id)))
        stored_hashes = set(conn.scalars(select(messages.c.sha256)))
    for path in files:
        if path in stored_paths:
            continue
        if path in held:
            assert len(held[path]) > 20, f"{path}: quarantine reason too terse: {held[path]!r}"
            continue
        # Not stored under its own path: it must be a copy of a message that is stored.
        from triage.ingest.files import read_file

        for item in read_file(Path(path)):
            assert item.sha256 in stored_hashes or getattr(item, "message_id", None) in stored_ids, path

    # Only files that are not mail at all are quarantined.
    assert {Path(p).name for p in held} <= {"README.md", "LICENSE", "LICENSE.txt", "LICENSE-2.0.txt"}

    second = ingest_paths(store, [corpus]).total
    assert (second.stored, second.quarantined) == (0, 0) and second.duplicates == second.seen


def test_corpus_messages_have_subject_sender_and_text(sqlite_store: Store, corpus: Path) -> None:
    ingest_paths(sqlite_store, [corpus])
    with sqlite_store.engine.connect() as conn:
        rows = conn.execute(
            select(messages.c.source, messages.c.subject, messages.c.body_new, messages.c.body_quoted, messages.c.sender_addr)
        ).all()
    with_text = [r for r in rows if (r.body_new or r.body_quoted).strip()]
    assert len(with_text) / len(rows) > 0.85
    assert sum(bool(r.subject) for r in rows) / len(rows) > 0.9
    assert sum(bool(r.sender_addr) for r in rows) / len(rows) > 0.8
