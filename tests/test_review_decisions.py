"""Review decisions on both backends: confirm, correct, optimistic concurrency, the lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from triage.errors import ReviewError
from triage.review import auth, decisions
from triage.review.agreement import agreement
from triage.store.db import Store
from triage.store.schema import messages


def _fill(store: Store, review_sample: list) -> list[int]:
    store.add([m for m, _ in review_sample])
    with store.engine.connect() as conn:
        pks = dict(conn.execute(select(messages.c.sha256, messages.c.id)).all())
    store.add_classifications("default", "0" * 64, [(pks[m.sha256], p) for m, p in review_sample])
    return sorted(pks.values())


def test_decisions_on_sqlite_and_postgresql(store: Store, review_sample: list) -> None:
    pks = _fill(store, review_sample)
    ann = auth.add_user(store, "ann", "a long passphrase", "admin")
    rob = auth.add_user(store, "rob", "a long passphrase", "reviewer")
    queue = decisions.to_confirm(store)
    assert [r["kind_confidence"] for r in queue] == sorted(r["kind_confidence"] for r in queue) and len(queue) == len(pks)

    first = queue[0]["id"]
    saved = decisions.confirm(store, first, ann, 0, "fine").saved
    assert saved and saved["action"] == "confirmed" and saved["version"] == 1
    conflict = decisions.record(store, first, rob, decisions.Decision("other", False), 0)
    assert conflict.conflict and conflict.current["user_name"] == "ann" and conflict.current["version"] == 1
    corrected = decisions.record(store, first, rob, decisions.Decision("other", False, ["repairs"], [], "not a complaint"), 1)
    assert corrected.saved and corrected.saved["action"] == "corrected"
    assert [(h["user_name"], h["version"], h["action"]) for h in decisions.history(store, first)] == [
        ("ann", 1, "confirmed"),
        ("rob", 2, "corrected"),
    ]
    assert first not in [r["id"] for r in decisions.to_confirm(store)]
    assert decisions.count_to_confirm(store) == len(pks) - 1
    latest = list(decisions.latest_reviews(store))
    assert [(r["message_pk"], r["version"]) for r in latest] == [(first, 2)]
    assert len(list(decisions.audit_trail(store))) == 2

    sure = decisions.high_confidence(store, 0.0, 3)
    done, conflicts = decisions.bulk_confirm(store, [r["id"] for r in sure] + [first], ann)
    assert (done, conflicts) == (len(sure), [first])


def test_agreement_counts(sqlite_store: Store, review_sample: list) -> None:
    _fill(sqlite_store, review_sample)
    user = auth.add_user(sqlite_store, "ann", "a long passphrase", "admin")
    rows = decisions.to_confirm(sqlite_store)
    decisions.confirm(sqlite_store, rows[0]["id"], user, 0)
    model = decisions.model_decision(sqlite_store.classification(rows[1]["id"]))
    staff_kind = "compliment" if model.kind != "compliment" else "other"
    decisions.record(sqlite_store, rows[1]["id"], user, decisions.Decision(staff_kind, not model.dissatisfied, ["leasehold"]), 0)
    a = agreement(list(decisions.latest_reviews(sqlite_store)))
    assert (a.reviewed, a.confirmed) == (2, 1)
    assert a.confusion[model.kind][staff_kind] == 1
    leasehold = next(r for r in a.themes if r.label == "leasehold")
    assert leasehold.added == 1
    assert any(what == f"kind {model.kind}" for what, _, _ in a.most_overruled())


def test_bad_decisions_and_accounts_are_clear_errors(sqlite_store: Store, review_sample: list) -> None:
    pks = _fill(sqlite_store, review_sample)
    user = auth.add_user(sqlite_store, "ann", "a long passphrase", "admin")
    with pytest.raises(ReviewError, match="is not one of"):
        decisions.record(sqlite_store, pks[0], user, decisions.Decision("grumble", False), 0)
    with pytest.raises(ReviewError, match="unknown theme"):
        decisions.record(sqlite_store, pks[0], user, decisions.Decision("other", False, ["weather"]), 0)
    with pytest.raises(ReviewError, match="no classification"):
        decisions.confirm(sqlite_store, 99999, user, 0)
    with pytest.raises(ReviewError, match="already a user"):
        auth.add_user(sqlite_store, "ann", "a long passphrase", "reviewer")
    with pytest.raises(ReviewError, match="role"):
        auth.add_user(sqlite_store, "bob", "a long passphrase", "superuser")
    with pytest.raises(ReviewError, match="shorter than 10"):
        auth.add_user(sqlite_store, "bob", "short", "reviewer")


def test_passwords_are_argon2_and_disabled_accounts_cannot_sign_in(sqlite_store: Store) -> None:
    auth.add_user(sqlite_store, "ann", "a long passphrase", "admin")
    [row] = auth.list_users(sqlite_store)
    with sqlite_store.engine.connect() as conn:
        from triage.store.schema import users

        stored = conn.scalar(select(users.c.password_hash))
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert auth.sign_in(sqlite_store, "ann", "a long passphrase", "127.0.0.1") is not None
    auth.set_disabled(sqlite_store, row["id"], True)
    assert auth.sign_in(sqlite_store, "ann", "a long passphrase", "127.0.0.1") is None


def test_queue_pages_are_slices_of_the_whole_queue(store: Store, review_sample: list) -> None:
    from conftest import link_cases

    _fill(store, review_sample)
    link_cases(store, review_sample)
    whole = store.queue(limit=1000)
    dated = [r["due_date"] for r in whole if r["due_date"]]
    assert dated == sorted(dated) and [r["due_date"] for r in whole[len(dated) :]] == [None] * (len(whole) - len(dated))
    assert 0 < len(dated) < len(whole)
    for size in (1, 3, 4):
        for offset in range(len(whole) + 1):
            assert store.queue(limit=size, offset=offset) == whole[offset : offset + size], (size, offset)
    complaints = store.queue(kind="complaint", limit=1000)
    assert complaints == [r for r in whole if r["kind"] == "complaint"]
    hazards = store.queue(flag="hazard", limit=1000)
    assert hazards == [r for r in whole if any(f["type"] == "hazard" for f in r["flags"])]


def test_migration_0006_backfills_kind_confidence(tmp_path: Path, review_sample: list) -> None:
    from sqlalchemy import create_engine, update

    from triage.store import migrate
    from triage.store.schema import classifications

    path = tmp_path / "old.db"
    with Store(path) as store:
        _fill(store, review_sample)
        with store.transaction() as conn:
            conn.execute(update(classifications).values(kind_confidence=None))
            conn.exec_driver_sql("DROP INDEX ix_classifications_kind_confidence")
            conn.exec_driver_sql("DROP INDEX ix_classifications_message_pk_id")
            conn.exec_driver_sql("ALTER TABLE classifications DROP COLUMN kind_confidence")
            # Back to 0005: drop what 0006 and the later migrations created (0007 learning, 0008 IMAP leases, 0009 purges).
            for table in ("imap_leases", "commitments", "learning_outcome_cases", "learning_outcomes", "purges"):
                conn.exec_driver_sql(f"DROP TABLE {table}")
            for table in ("messages", "cases"):  # 0009 (retention)
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN purged_at")
            for table in ("reviews", "sign_in_attempts", "web_sessions", "users"):
                conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0005'")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        migrate.upgrade_to_head(conn)
    engine.dispose()
    with Store(path) as store:
        rows = decisions.to_confirm(store, 1000)
        assert len(rows) == len(review_sample)
        for row in rows:
            c = store.classification(row["id"])
            assert row["kind_confidence"] == c["kind_scores"][c["kind"]]
