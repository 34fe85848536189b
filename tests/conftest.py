"""Shared fixtures: fresh stores on real SQLite and a real PostgreSQL server, and a real Dovecot
IMAP server.

PostgreSQL is started from Debian's ``postgresql`` package in a throwaway folder, on
127.0.0.1 and a free port, for the test session; Dovecot likewise from ``dovecot-imapd``
(see tests/dovecot.py). Where the binaries are missing a test skips
locally with the reason; in CI (``CI`` is set) it fails instead, so CI never skips it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from dovecot import Dovecot, dovecot_binary

from triage.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "mime"
IN_CI = bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test: .ci/run installs what it needs)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "triage.db") as store:
        yield store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for the session; yields a base URL without a database name."""
    if url := os.environ.get("TRIAGE_TEST_PG_URL"):
        yield url.rstrip("/")
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    data = folder / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A new, empty database on the session's server."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same test on both backends."""
    url = str(tmp_path / "triage.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    with Store(url) as s:
        yield s


def started_dovecot() -> Iterator[Dovecot]:
    """A running Dovecot, closed when the fixture that yields it ends."""
    binary = dovecot_binary()
    if binary is None:
        skip_or_fail("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = Dovecot(binary)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot IMAP server for the session (plain/STARTTLS port and implicit-TLS port)."""
    yield from started_dovecot()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        skip_or_fail(f"the shared MIME corpus is not at {CORPUS}")
    return CORPUS


def make_email(
    subject: str = "Leak under the sink",
    body: str = "Hello,\n\nThe pipe under my sink is leaking.\n\nThanks\nJo",
    sender: str = "Jo Bloggs <jo@example.com>",
    message_id: str | None = "<leak-1@example.com>",
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "customer.services@northbrook-homes.example"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 03 Nov 2026 10:02:00 +0000"
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


# -- review app: a small classified store --------------------------------------------------------
REVIEW_SAMPLES = (
    "01-kitchen-tap-dripping.eml",
    "03-back-door-third-report.eml",
    "05-mould-child-asthma-photo.eml",
    "08-faint-gas-smell.eml",
    "10-rude-staff-phone-call.eml",
    "15-leak-thread-3-nobody-came.eml",
    "23-thanks-housing-officer.eml",
    "28-mp-damp-disabled-child.eml",
    "41-question-office-hours.eml",
    "53-complaint-not-acknowledged-informal.eml",
)
HOSTILE_SUBJECT = "Broken window <script>document.title='pwned'</script>"
HOSTILE_BODY = (
    "Hello,\n\nThe window in my kitchen is broken and nobody has come.\n"
    "<script>document.title='pwned';window.pwned=1</script>\n"
    '<img src="http://tracker.invalid/pixel.gif?u=resident" alt="">\n'
    '<a href="javascript:alert(1)">click</a>\n\nJo'
)


@pytest.fixture(scope="session")
def review_sample() -> list[tuple[object, dict]]:
    """Sample messages (and one hostile email) with the shipped model's classification, routing
    and flags: computed once, stored by ``classified_store`` into each test's fresh store."""
    from triage.classify.service import input_from_message, load_model
    from triage.jobs import mail_items
    from triage.route.assign import assign
    from triage.route.routing import load_table

    paths = [ROOT / "triage" / "sample" / "mailbox" / name for name in REVIEW_SAMPLES]
    folder = Path(tempfile.mkdtemp(prefix="triage-review-"))
    hostile = folder / "hostile.eml"
    hostile.write_bytes(make_email(subject=HOSTILE_SUBJECT, body=HOSTILE_BODY, message_id="<hostile@example.com>"))
    messages = [m for m in mail_items([*paths, hostile]) if hasattr(m, "body_new")]
    shutil.rmtree(folder, ignore_errors=True)
    model, _ = load_model()
    table = load_table(None)
    predictions = model.predict([input_from_message(m) for m in messages])
    return [
        (m, {**p.as_dict(), **assign(p, m.channel, m.received_at, table)}) for m, p in zip(messages, predictions, strict=True)
    ]


@pytest.fixture
def classified_store(sqlite_store: Store, review_sample: list[tuple[object, dict]]) -> Store:
    """``sqlite_store`` holding the review sample, classified by models/default."""
    from sqlalchemy import select

    from triage.store.schema import messages

    sqlite_store.add([m for m, _ in review_sample])
    with sqlite_store.engine.connect() as conn:
        pks = dict(conn.execute(select(messages.c.sha256, messages.c.id)).all())
    sqlite_store.add_classifications("default", "0" * 64, [(pks[m.sha256], p) for m, p in review_sample])
    link_cases(sqlite_store, review_sample)
    return sqlite_store


def link_cases(store: Store, review_sample: list[tuple[object, dict]]) -> None:
    """Put the classified messages on cases, in the order received, as ``triage run`` does."""
    from triage.cases import CaseRules, link_message

    by_sha = {m.sha256: p for m, p in review_sample}
    with store.engine.connect() as conn:
        from sqlalchemy import select

        from triage.store.schema import messages

        sha = dict(conn.execute(select(messages.c.id, messages.c.sha256)).all())
    with store.transaction() as conn:
        for row in store.unclassified("f" * 64, 1000):  # every message, in the order received
            p = by_sha[sha[row["id"]]]
            link_message(conn, row, p["kind"], p["dissatisfied"], p["themes"], p["on_complaints_register"], CaseRules())


def sample_pipeline(folder: Path) -> Path:
    """A copy of pipelines/sample.toml in ``folder``/pipelines whose store is ``folder``/triage.db,
    so a test never touches the user's own triage.db."""
    (folder / "pipelines").mkdir(exist_ok=True)
    text = (ROOT / "pipelines" / "sample.toml").read_text()
    text = text.replace('"../triage/', f'"{ROOT}/triage/').replace('"../models/', f'"{ROOT}/models/')
    path = folder / "pipelines" / "sample.toml"
    path.write_text(text)
    return path
