"""Several triage processes on one store at once: real ``triage run`` and ``triage watch``
processes started side by side against a real PostgreSQL (and SQLite), on mail files and on one
Dovecot mailbox. Each must exit cleanly, and the store must hold every message exactly once,
classified once, on one case per issue (the same cases a single process makes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_email, sample_pipeline
from dovecot import Dovecot, User
from sqlalchemy import func, select

from triage.store.db import Store
from triage.store.schema import case_messages, cases, classifications, imap_pending, messages

TRIAGE = str(Path(sys.executable).parent / "triage")
MODEL = ROOT / "models" / "default"
PW_ENV = "TRIAGE_TEST_IMAP_PASSWORD"


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TRIAGE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )


def finish_all(procs: list[subprocess.Popen[str]]) -> list[dict]:
    """Wait for every process; each must exit 0 and print its JSON summary last."""
    summaries = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"exit {p.returncode}\nstdout: {out[-2000:]}\nstderr: {err[-4000:]}"
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return summaries


def files_pipeline(folder: Path, store: str) -> Path:
    path = sample_pipeline(folder)
    text = path.read_text().replace('store = "../triage.db"', f"store = {json.dumps(store)}")
    path.write_text(text)
    return path


def store_facts(url: str) -> dict[str, object]:
    """What exactly once means in the store: counts, and the case each message sits on (by sha)."""
    with Store(url) as store, store.engine.connect() as conn:
        per_message = conn.execute(
            select(classifications.c.message_pk, func.count()).group_by(classifications.c.message_pk)
        ).all()
        case_of = dict(
            conn.execute(
                select(messages.c.sha256, case_messages.c.case_pk).join(
                    case_messages, case_messages.c.message_pk == messages.c.id
                )
            ).all()
        )
        # Cases as groups of messages (case ids differ between stores; the grouping must not).
        groups: dict[int, set[str]] = {}
        for sha, case_pk in case_of.items():
            groups.setdefault(case_pk, set()).add(sha)
        return {
            "messages": conn.scalar(select(func.count()).select_from(messages)),
            "distinct_sha": conn.scalar(select(func.count(func.distinct(messages.c.sha256)))),
            "max_classifications_per_message": max((n for _, n in per_message), default=0),
            "classified": len(per_message),
            "cases": conn.scalar(select(func.count()).select_from(cases)),
            "case_groups": sorted(sorted(g) for g in groups.values()),
        }


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The store one ``triage run`` of the sample pipeline makes on its own."""
    folder = tmp_path_factory.mktemp("alone")
    finish_all([start(["run", str(files_pipeline(folder, str(folder / "triage.db"))), "--json"])])
    return store_facts(str(folder / "triage.db"))


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_runs_on_files_store_everything_exactly_once(
    tmp_path: Path, pg_url: str, workers: int, alone: dict[str, object]
) -> None:
    """N ``triage run`` processes on an empty PostgreSQL database at once (schema creation
    included): none crashes, and the store matches what one process alone makes."""
    expected = alone
    together = tmp_path / "together"
    together.mkdir()
    path = files_pipeline(together, pg_url)
    summaries = finish_all([start(["run", str(path), "--json"]) for _ in range(workers)])
    assert sum(s["stored"] for s in summaries) == expected["messages"]  # each message stored by exactly one
    assert store_facts(pg_url) == expected


def test_concurrent_runs_on_sqlite_store_everything_exactly_once(tmp_path: Path, alone: dict[str, object]) -> None:
    db = str(tmp_path / "triage.db")
    summaries = finish_all([start(["run", str(files_pipeline(tmp_path, db)), "--json"]) for _ in range(2)])
    assert sum(s["stored"] for s in summaries) == alone["messages"]
    assert store_facts(db) == alone


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_run_with_workers_makes_the_store_one_process_makes(
    tmp_path: Path, backend: str, alone: dict[str, object], request: pytest.FixtureRequest
) -> None:
    """``triage run --workers 2``: files read and the model run in two processes, the same
    messages, classifications and cases as one process."""
    url = str(tmp_path / "triage.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    (summary,) = finish_all([start(["run", str(files_pipeline(tmp_path, url)), "--json", "--workers", "2"])])
    assert summary["stored"] == alone["messages"] and summary["errors"] == []
    assert sum(n for k, n in summary["classified"].items() if k != "needs_review") == alone["classified"]
    assert store_facts(url) == alone


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_model_that_cannot_be_loaded_fails_after_the_files_are_stored(tmp_path: Path, workers: str) -> None:
    """The processes ``--workers`` starts read the files and load the model; a model that cannot
    be loaded stops the run with the model's own message once the files are stored, as with one
    process."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    path = files_pipeline(tmp_path, str(tmp_path / "triage.db"))
    path.write_text(path.read_text().replace(json.dumps(str(MODEL)), json.dumps(str(broken))))
    assert json.dumps(str(broken)) in path.read_text()
    proc = start(["run", str(path), "--json", "--workers", workers])
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0 and str(broken) in err and "Traceback" not in err, err
    with Store(str(tmp_path / "triage.db")) as store:
        assert store.count() > 50 and store.count("classifications") == 0


def imap_pipeline(tmp_path: Path, server: Dovecot, user: User, store: str, drafts: bool = True, poll: int = 5) -> Path:
    path = tmp_path / "mailbox.toml"
    path.write_text(
        f"""
[pipeline]
name = "shared-mailbox"
store = {json.dumps(store)}
model = {json.dumps(str(MODEL))}

[[sources]]
type = "imap"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user.name}"
password_env = "{PW_ENV}"
folders = ["INBOX"]
batch_size = 10
poll_seconds = {poll}
backoff_seconds = 0.1
backoff_max_seconds = 0.5

[sources.drafts]
enabled = {json.dumps(drafts)}
"""
    )
    return path


@pytest.fixture
def user(dovecot: Dovecot) -> User:
    return dovecot.new_user()


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_watchers_on_one_mailbox_store_and_act_exactly_once(
    tmp_path: Path, dovecot: Dovecot, user: User, pg_url: str, workers: int
) -> None:
    """N ``triage watch --once`` processes on one mailbox and one PostgreSQL store: every message
    stored once, keyworded, one acknowledgement draft per new complaint, nothing deleted."""
    admin = dovecot.client(user)
    sample = sorted((ROOT / "triage" / "sample" / "mailbox").glob("*.eml"))
    for p in sample[:30]:
        admin.append("INBOX", p.read_bytes())
    for i in range(30):
        admin.append(
            "INBOX", make_email(subject=f"Damp in flat {i}", message_id=f"<many-{i}@example.com>", sender=f"r{i}@example.com")
        )
    path = imap_pipeline(tmp_path, dovecot, user, pg_url)
    env = {PW_ENV: user.password}
    summaries = finish_all([start(["watch", str(path), "--once", "--json", "--quiet"], env) for _ in range(workers)])

    facts = store_facts(pg_url)
    assert facts["messages"] == facts["distinct_sha"] == 60
    assert sum(s["stored"] for s in summaries) == 60
    assert facts["classified"] == 60 and facts["max_classifications_per_message"] == 1
    with Store(pg_url) as store, store.engine.connect() as conn:
        complaints = conn.scalar(select(func.count()).select_from(classifications).where(classifications.c.kind == "complaint"))
        assert conn.scalar(select(func.count()).select_from(imap_pending)) == 0  # every action applied
    admin.select_folder("INBOX", readonly=True)
    flags = admin.fetch(admin.search(["ALL"]), ["FLAGS"])
    assert len(flags) == 60
    assert all(any(k.startswith(b"triage:") for k in d[b"FLAGS"]) for d in flags.values())
    assert all(b"\\Deleted" not in d[b"FLAGS"] for d in flags.values())
    drafts = [name for _, _, name in admin.list_folders() if "Drafts" in name]
    written = 0
    for name in drafts:
        admin.select_folder(name, readonly=True)
        written += len(admin.search(["ALL"]))
    assert written == sum(s["drafts"] for s in summaries) == complaints
    admin.logout()


def test_a_folder_lease_has_one_holder_until_released_or_expired(store: Store) -> None:
    """On both backends: a second watcher is refused while the lease is live, takes over once
    it expires, and the first then fails its fencing check (its batch would be rolled back)."""
    from datetime import timedelta

    from triage.ingest.imap import lease

    live, gone = timedelta(minutes=5), timedelta(seconds=-1)
    assert lease.take(store, "box", "INBOX", "a", live)
    assert not lease.take(store, "box", "INBOX", "b", live)
    assert lease.take(store, "box", "INBOX", "a", live)  # renewing
    assert lease.take(store, "box", "Other", "b", live)  # another folder is free
    lease.release(store, "box", "INBOX", "a")
    assert lease.take(store, "box", "INBOX", "b", gone)  # released: b takes it (and lets it lapse at once)
    assert lease.take(store, "box", "INBOX", "a", live)  # expired: a takes it back
    with store.transaction() as conn:
        assert not lease.hold(conn, "box", "INBOX", "b", live)
    assert lease.holder_of(store, "box", "INBOX") == "a"


def wait_for(condition: object, seconds: float = 240) -> None:  # generous: a loaded machine starts slowly
    import time

    until = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < until, "timed out"
        time.sleep(0.2)


def test_a_standby_watcher_takes_over_when_the_reader_stops(tmp_path: Path, dovecot: Dovecot, user: User, pg_url: str) -> None:
    """Two ``triage watch`` on one mailbox for availability: one reads, the other stands by;
    when the reader is stopped (SIGTERM), the standby reads the mail that comes next."""
    import signal
    import threading

    admin = dovecot.client(user)
    for i in range(10):
        admin.append("INBOX", make_email(subject=f"Boiler {i}", message_id=f"<standby-{i}@example.com>"))
    path = imap_pipeline(tmp_path, dovecot, user, pg_url, drafts=False, poll=2)
    env = {PW_ENV: user.password}

    def stored() -> int:
        with Store(pg_url) as store:
            return store.count("messages")

    reader = start(["watch", str(path), "--json"], env)
    standby: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: stored() == 10)
        standby = start(["watch", str(path), "--json"], env)
        log: list[str] = []
        reading = threading.Thread(target=lambda: log.extend(iter(standby.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
        reading.start()
        wait_for(lambda: any("standing by" in line for line in log))
        reader.send_signal(signal.SIGTERM)
        (first,) = finish_all([reader])
        admin.append("INBOX", make_email(subject="Boiler again", message_id="<standby-late@example.com>"))
        wait_for(lambda: stored() == 11)
        standby.send_signal(signal.SIGTERM)
        assert standby.wait(120) == 0, "".join(log)
        reading.join(10)
        second = json.loads(standby.stdout.read().strip().splitlines()[-1])  # type: ignore[union-attr]
    finally:  # a failed wait must not leave watchers running into the next test
        for proc in (reader, standby):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()
    assert (first["stored"], second["stored"]) == (10, 1)
    facts = store_facts(pg_url)
    assert facts["classified"] == 11 and facts["max_classifications_per_message"] == 1
    admin.logout()
