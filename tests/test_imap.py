"""The IMAP source against a real Dovecot server: backlog, IDLE, keywords and moves, nothing
deleted, exactly once across restarts and crashes, UIDVALIDITY changes, quarantine, dry run,
TLS and XOAUTH2 logins. A few unit tests with small fakes cover what Dovecot cannot show
(a server without MOVE or without keyword support)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_email
from dovecot import Dovecot, User
from imapclient import IMAPClient

from triage.cli import cli
from triage.errors import ConfigError, ImapError
from triage.ingest.imap import checkpoint
from triage.ingest.imap.checkpoint import Pending
from triage.ingest.imap.client import Backoff, connect
from triage.ingest.imap.config import ImapSource
from triage.ingest.imap.progress import LogReporter
from triage.jobs import watch_pipeline
from triage.pipeline import load
from triage.route.deadlines import stage_deadlines
from triage.store.db import Store
from triage.writeback import actions, drafts

SAMPLE = sorted((ROOT / "triage" / "sample" / "mailbox").glob("*.eml"))
MODEL = ROOT / "models" / "default"
PW_ENV = "TRIAGE_TEST_IMAP_PASSWORD"


# -- helpers -------------------------------------------------------------------------------
def write_pipeline(
    tmp_path: Path,
    server: Dovecot,
    user: User,
    *,
    store: str | None = None,
    model: bool = True,
    folders: tuple[str, ...] = ("INBOX",),
    batch: int = 50,
    source: str = "",
    on_stored: str = "",
    tables: str = "",
) -> Path:
    path = tmp_path / "mailbox.toml"
    path.write_text(
        f"""
[pipeline]
name = "test-mailbox"
store = {json.dumps(store or str(tmp_path / "triage.db"))}
{f"model = {json.dumps(str(MODEL))}" if model else ""}

[[sources]]
type = "imap"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user.name}"
password_env = "{PW_ENV}"
folders = {json.dumps(list(folders))}
batch_size = {batch}
poll_seconds = 5
backoff_seconds = 0.1
backoff_max_seconds = 0.5
{source}

[sources.on_stored]
{on_stored}
{tables}
"""
    )
    return path


@pytest.fixture
def user(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> User:
    """A fresh, empty mailbox; its password is in the environment, never in the pipeline file."""
    u = dovecot.new_user()
    monkeypatch.setenv(PW_ENV, u.password)
    return u


@pytest.fixture
def admin(dovecot: Dovecot, user: User) -> Iterator[IMAPClient]:
    c = dovecot.client(user)
    yield c
    try:
        c.logout()
    except (OSError, IMAPClient.AbortError):  # the server was restarted under it
        c.shutdown()


def append_sample(admin: IMAPClient, n: int, folder: str = "INBOX") -> list[bytes]:
    raws = [p.read_bytes() for p in SAMPLE[:n]]
    for raw in raws:
        admin.append(folder, raw)
    return raws


def mailbox_state(admin: IMAPClient) -> dict[str, dict[int, set[bytes]]]:
    """Every folder's messages: UID -> flags."""
    state = {}
    for flags, _, name in admin.list_folders():
        if b"\\Noselect" in flags or b"\\NonExistent" in flags:
            continue
        admin.select_folder(name, readonly=True)
        state[name] = {uid: set(d[b"FLAGS"]) for uid, d in admin.fetch(admin.search(["ALL"]), ["FLAGS"]).items()}
    admin.unselect_folder()
    return state


def count_all(state: dict[str, dict[int, set[bytes]]]) -> int:
    return sum(len(v) for v in state.values())


def assert_nothing_deleted(state: dict[str, dict[int, set[bytes]]]) -> None:
    assert all(b"\\Deleted" not in flags for folder in state.values() for flags in folder.values())


def run_once(path: Path, **kwargs: object) -> object:
    pipeline = load(path)
    with Store(pipeline.store_url()) as store:
        return watch_pipeline(pipeline, store, threading.Event(), once=True, **kwargs)  # type: ignore[arg-type]


def stored_uids(store_path: Path) -> list[int]:
    with Store(store_path) as store, store.engine.connect() as conn:
        from sqlalchemy import select

        from triage.store.schema import messages

        return sorted(d["uid"] for (d,) in conn.execute(select(messages.c.source_detail)))


# -- configuration -------------------------------------------------------------------------
def test_a_password_in_the_pipeline_file_is_refused_without_echoing_it(tmp_path: Path, dovecot: Dovecot, user: User) -> None:
    path = write_pipeline(tmp_path, dovecot, user, source='password = "hunter2-secret"')
    with pytest.raises(ConfigError) as err:
        load(path)
    assert "password_env" in str(err.value) and "never accepted in a pipeline file" in str(err.value)
    assert "hunter2-secret" not in str(err.value)


def test_an_oauth2_token_in_the_pipeline_file_is_refused(tmp_path: Path, dovecot: Dovecot, user: User) -> None:
    path = write_pipeline(tmp_path, dovecot, user, tables='[sources.oauth2]\ntoken = "ya29.secret"')
    path.write_text(path.read_text().replace(f'password_env = "{PW_ENV}"\n', ""))
    with pytest.raises(ConfigError, match="token_env") as err:
        load(path)
    assert "ya29.secret" not in str(err.value)


def test_plaintext_is_refused_for_a_remote_server_and_one_login_method_is_required() -> None:
    base = {"type": "imap", "host": "imap.example.org", "username": "u", "password_env": "P"}
    with pytest.raises(ValueError, match="allowed only for a server on this machine"):
        ImapSource.model_validate({**base, "tls": "none"})
    with pytest.raises(ValueError, match="exactly one of password_env"):
        ImapSource.model_validate({**base, "oauth2": {"token_env": "T"}})
    assert ImapSource.model_validate(base).server_port == 993
    assert ImapSource.model_validate({**base, "tls": "starttls"}).server_port == 143


def test_a_missing_password_variable_says_which_to_set(
    tmp_path: Path, dovecot: Dovecot, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PW_ENV)
    result = CliRunner().invoke(cli, ["watch", str(write_pipeline(tmp_path, dovecot, user)), "--once", "--quiet"])
    assert result.exit_code == 1 and f"environment variable {PW_ENV}" in result.output


def test_a_wrong_password_is_a_clear_error_not_a_retry(
    tmp_path: Path, dovecot: Dovecot, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PW_ENV, "wrong")
    with pytest.raises(ImapError, match="refused the login"):
        run_once(write_pipeline(tmp_path, dovecot, user))


# -- TLS and OAuth2 ------------------------------------------------------------------------
@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_oauth2_login_over_tls_with_a_token_from_env_or_command(
    tls: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Dovecot checks an XOAUTH2 bearer token like a password: the user's password is the token."""
    u = dovecot.new_user()
    token = u.password  # Dovecot checks the bearer token as the user's password
    if tls == "implicit":
        monkeypatch.setenv("TRIAGE_TEST_TOKEN", token)
        oauth2 = {"token_env": "TRIAGE_TEST_TOKEN"}
        port = dovecot.ssl_port
    else:
        helper = tmp_path / "token.sh"
        helper.write_text(f"#!/bin/sh\necho {token}\n")
        helper.chmod(0o755)
        oauth2 = {"token_command": [str(helper)]}
        port = dovecot.port
    source = ImapSource.model_validate(
        {
            "type": "imap",
            "host": "127.0.0.1",
            "port": port,
            "tls": tls,
            "ca_file": dovecot.ca_file,
            "username": u.name,
            "oauth2": oauth2,
        }
    )
    client = connect(source)
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.socket().version() is not None  # an SSL socket: TLS is in use
    finally:
        client.logout()


def test_a_failing_token_command_says_to_run_it(dovecot: Dovecot) -> None:
    source = ImapSource.model_validate(
        {
            "type": "imap",
            "host": "127.0.0.1",
            "port": dovecot.ssl_port,
            "ca_file": dovecot.ca_file,
            "username": "x",
            "oauth2": {"token_command": ["false"]},
        }
    )
    with pytest.raises(ConfigError, match="Run it yourself"):
        connect(source)


def test_an_untrusted_certificate_is_refused(dovecot: Dovecot, user: User) -> None:
    source = ImapSource.model_validate(
        {"type": "imap", "host": "127.0.0.1", "port": dovecot.ssl_port, "username": user.name, "password_env": PW_ENV}
    )
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        connect(source)


# -- backlog, keywords, moves ----------------------------------------------------------------
def test_triage_run_reads_the_backlog_classifies_keywords_and_deletes_nothing(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    append_sample(admin, 12)
    before = mailbox_state(admin)
    result = CliRunner().invoke(cli, ["run", str(write_pipeline(tmp_path, dovecot, user, batch=5)), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[-1])
    assert (summary["seen"], summary["stored"], summary["quarantined"]) == (12, 12, 0)
    # The summary counts what the mailbox's batches classified, and the cases they opened.
    assert sum(n for k, n in summary["classified"].items() if k != "needs_review") == 12
    assert sum(summary["cases"].values()) >= 1
    after = mailbox_state(admin)
    assert count_all(after) == count_all(before) == 12
    assert_nothing_deleted(after)
    with Store(tmp_path / "triage.db") as store:
        assert store.count("messages") == 12 and store.count("classifications") == 12
        kinds = {store.message(pk)["source_detail"]["uid"]: store.classification(pk)["kind"] for pk in range(1, 13)}
        queues = {store.message(pk)["source_detail"]["uid"]: store.classification(pk)["queue"] for pk in range(1, 13)}
    for uid, flags in after["INBOX"].items():
        assert f"triage:{kinds[uid]}".encode() in flags
        assert f"triage:{actions.slug(queues[uid])}".encode() in flags
        assert b"\\Seen" not in flags  # BODY.PEEK, and mark_seen is off by default


def test_moves_go_to_per_queue_folders_and_mark_seen_when_configured(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    append_sample(admin, 10)
    path = write_pipeline(tmp_path, dovecot, user, on_stored='move_to = "Triage/{queue}"\nmark_seen = true')
    result = run_once(path)
    assert result.actions.moved == 10 and result.actions.seen == 10
    after = mailbox_state(admin)
    assert after["INBOX"] == {} and count_all(after) == 10
    assert_nothing_deleted(after)
    with Store(tmp_path / "triage.db") as store:
        queues = {store.classification(pk)["queue"] for pk in range(1, 11)}
    assert {f"Triage.{q}" for q in queues} == {name for name, msgs in after.items() if msgs}
    assert all(b"\\Seen" in f and any(k.startswith(b"triage:") for k in f) for msgs in after.values() for f in msgs.values())


def test_a_second_run_reads_nothing_again(tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient) -> None:
    append_sample(admin, 6)
    path = write_pipeline(tmp_path, dovecot, user)
    first = run_once(path)
    second = run_once(path)
    append_sample(admin, 8)  # the first six again (a copy of each: duplicates by content) and two new
    third = run_once(path)
    assert (first.counts.stored, second.counts.seen, third.counts.seen) == (6, 0, 8)
    assert third.counts.stored == 2 and third.counts.duplicates == 6
    assert stored_uids(tmp_path / "triage.db") == [1, 2, 3, 4, 5, 6, 13, 14]


def test_large_backlogs_are_fetched_in_batches_with_progress_lines(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(30):
        admin.append("INBOX", make_email(subject=f"Repair {i}", message_id=f"<batch-{i}@example.com>"))
    batches: list[list[int]] = []
    caplog.set_level(logging.INFO, "triage.imap")
    result = run_once(
        write_pipeline(tmp_path, dovecot, user, batch=7, model=False),
        reporter=LogReporter(every=0),
        after_store=lambda f, uids: batches.append(uids),
    )
    assert result.counts.stored == 30
    assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
    assert "INBOX: 30 of 30 messages" in caplog.text


# -- new mail ------------------------------------------------------------------------------
def test_idle_picks_up_mail_appended_while_watching_and_stops_on_request(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    append_sample(admin, 2)
    path = write_pipeline(tmp_path, dovecot, user)
    path.write_text(path.read_text().replace("poll_seconds = 5", "poll_seconds = 60"))  # only IDLE can be this quick
    pipeline = load(path)
    stop = threading.Event()
    out: dict[str, object] = {}
    store = Store(pipeline.store_url())

    def watcher() -> None:
        out["result"] = watch_pipeline(pipeline, store, stop)

    thread = threading.Thread(target=watcher)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while store.count("classifications") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let the watcher enter IDLE
        t0 = time.monotonic()
        admin.append("INBOX", SAMPLE[20].read_bytes())
        while store.count("classifications") < 3 and time.monotonic() < deadline + 10:
            time.sleep(0.02)
        latency = time.monotonic() - t0
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "the watcher did not stop"
    assert store.count("classifications") == 3 and latency < 5
    store.close()
    flags = mailbox_state(admin)["INBOX"]
    assert len(flags) == 3 and all(any(k.startswith(b"triage:") for k in f) for f in flags.values())


def test_sigterm_finishes_and_exits_cleanly(tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient) -> None:
    append_sample(admin, 3)
    path = write_pipeline(tmp_path, dovecot, user, model=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage.cli", "watch", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "triage.db").exists():
            time.sleep(0.1)
        while time.monotonic() < deadline:
            with Store(tmp_path / "triage.db", upgrade=False) as store:
                try:
                    if checkpoint.read(store, f"{user.name}@127.0.0.1", "INBOX"):
                        break
                except Exception:
                    pass
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM received" in err
    assert json.loads(out.splitlines()[-1])["stored"] == 3


# -- failures: exactly once --------------------------------------------------------------------
def test_a_server_restart_mid_run_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(40):
        admin.append("INBOX", make_email(subject=f"Leak {i}", message_id=f"<restart-{i}@example.com>"))
    restarted = []

    def restart_after_second_batch(folder: str, uids: list[int]) -> None:
        if len(restarted) == 0 and uids[0] > 10:  # batch 2 is stored; its keywords are not yet set
            restarted.append(uids)
            dovecot.restart()

    caplog.set_level(logging.INFO, "triage.imap")
    result = run_once(write_pipeline(tmp_path, dovecot, user, batch=10), after_store=restart_after_second_batch)
    admin = dovecot.client(user)  # the old admin connection died with the server
    assert restarted and result.reconnects >= 1
    assert "reconnecting in" in caplog.text and "reconnected to" in caplog.text
    assert result.counts.stored == 40 and result.counts.duplicates == 0
    assert stored_uids(tmp_path / "triage.db") == list(range(1, 41))
    state = mailbox_state(admin)
    assert len(state["INBOX"]) == 40
    assert all(any(k.startswith(b"triage:") for k in f) for f in state["INBOX"].values())  # batch 2 made good
    admin.logout()


def test_a_crash_between_store_and_mailbox_update_is_made_good_on_the_next_run(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient, store: Store
) -> None:
    """On both store backends: the checkpoint and the pending actions commit with the messages."""
    for i in range(25):
        admin.append("INBOX", make_email(subject=f"Mould {i}", message_id=f"<crash-{i}@example.com>"))

    def crash(folder: str, uids: list[int]) -> None:
        if uids[0] > 10:
            raise KeyboardInterrupt("simulated crash")

    path = write_pipeline(
        tmp_path, dovecot, user, store=store.url.replace("postgresql+psycopg", "postgresql").removeprefix("sqlite:///"), batch=10
    )
    with pytest.raises(KeyboardInterrupt):
        run_once(path, after_store=crash)
    assert store.count("messages") == 20  # two batches stored, the second without its keywords
    flagged = [uid for uid, f in mailbox_state(admin)["INBOX"].items() if any(k.startswith(b"triage:") for k in f)]
    assert flagged == list(range(1, 11))
    result = run_once(path)
    assert (result.counts.seen, result.counts.stored, result.counts.duplicates) == (5, 5, 0)
    assert store.count("messages") == 25 and store.count("classifications") == 25
    state = mailbox_state(admin)["INBOX"]
    kinds = {b"triage:complaint", b"triage:service_request", b"triage:mp_enquiry", b"triage:compliment", b"triage:other"}
    # The crash came before the second batch was classified: it is classified before its keywords are added.
    assert len(state) == 25 and all(kinds & set(f) for f in state.values())


def test_a_uidvalidity_change_reads_the_folder_again_without_duplicates(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin.create_folder("Shared")
    raws = append_sample(admin, 5, "Shared")
    path = write_pipeline(tmp_path, dovecot, user, folders=("Shared",), model=False)
    run_once(path)
    with Store(tmp_path / "triage.db") as store:
        old = checkpoint.read(store, f"{user.name}@127.0.0.1", "Shared")
    # The server side rebuilds the folder: same mail, new UIDVALIDITY, plus one new message.
    admin.delete_folder("Shared")
    admin.create_folder("Shared")
    for raw in [*raws, SAMPLE[30].read_bytes()]:
        admin.append("Shared", raw)
    caplog.set_level(logging.WARNING, "triage.imap")
    result = run_once(path)
    with Store(tmp_path / "triage.db") as store:
        new = checkpoint.read(store, f"{user.name}@127.0.0.1", "Shared")
        assert store.count("messages") == 6
    assert old is not None and new is not None and new.uidvalidity != old.uidvalidity and new.last_uid == 6
    assert (result.counts.seen, result.counts.stored, result.counts.duplicates) == (6, 1, 5)
    assert "UIDVALIDITY changed" in caplog.text


def test_a_malformed_message_is_quarantined_and_left_in_the_mailbox(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    junk = b"this is not an email at all\r\njust some words\r\n"
    append_sample(admin, 2)
    admin.append("INBOX", junk)
    for path in SAMPLE[2:4]:
        admin.append("INBOX", path.read_bytes())
    result = run_once(write_pipeline(tmp_path, dovecot, user, model=False))
    assert (result.counts.stored, result.counts.quarantined) == (4, 1)
    with Store(tmp_path / "triage.db") as store:
        held = store.quarantined()
        assert len(held) == 1 and store.quarantine_item(held[0]["id"])["raw"] == junk
        assert ";UID=3" in held[0]["source"]
    state = mailbox_state(admin)["INBOX"]
    assert len(state) == 5 and b"triage:quarantined" in state[3]


def test_a_quarantine_folder_receives_the_malformed_message(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    admin.append("INBOX", b"garbage without headers\r\n")
    append_sample(admin, 1)
    run_once(write_pipeline(tmp_path, dovecot, user, model=False, source='quarantine_folder = "Triage/Quarantine"'))
    state = mailbox_state(admin)
    assert list(state["INBOX"]) == [2] and len(state["Triage.Quarantine"]) == 1
    assert_nothing_deleted(state)


# -- dry run and drafts ------------------------------------------------------------------------
def test_dry_run_changes_neither_the_mailbox_nor_the_store(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    append_sample(admin, 4)
    admin.append("INBOX", b"not mail\r\n")
    before = mailbox_state(admin)
    path = write_pipeline(tmp_path, dovecot, user, on_stored='move_to = "Triage/{queue}"')
    result = CliRunner().invoke(cli, ["watch", str(path), "--once", "--dry-run", "--quiet"])
    assert result.exit_code == 0, result.output
    assert mailbox_state(admin) == before
    with Store(tmp_path / "triage.db") as store:
        assert store.count("messages") == 0 and store.count("quarantine") == 0
        assert checkpoint.read(store, f"{user.name}@127.0.0.1", "INBOX") is None
    lines = [line for line in result.output.splitlines() if " UID " in line]
    assert len(lines) == 5
    assert "store as " in lines[0] and "add keywords triage:" in lines[0] and "move to Triage." in lines[0]
    assert "quarantine (not an email message" in lines[4]
    assert "Dry run, nothing changed: would have read 5 message(s): 4 stored" in result.output


def test_acknowledgement_drafts_for_new_complaints(tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient) -> None:
    append_sample(admin, 12)
    path = write_pipeline(
        tmp_path, dovecot, user, tables='[sources.drafts]\nenabled = true\nfrom_address = "complaints@northbrook-homes.example"'
    )
    result = run_once(path)
    with Store(tmp_path / "triage.db") as store:
        complaints = [pk for pk in range(1, 13) if store.classification(pk)["kind"] == "complaint"]
        first = store.message(complaints[0])
    assert complaints and result.actions.drafts == len(complaints)
    run_once(path)  # nothing new: no second draft
    admin.select_folder("Drafts", readonly=True)
    fetched = admin.fetch(admin.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"])
    assert len(fetched) == len(complaints)
    assert all(b"\\Draft" in d[b"FLAGS"] for d in fetched.values())
    texts = [d[b"BODY[]"].decode() for d in fetched.values()]
    # The draft is the acknowledgement: the response is due 10 working days after it is written (6.3).
    received = first["received_at"].astimezone(drafts.UK).date()
    written = max(datetime.now(UTC).astimezone(drafts.UK).date(), received)
    deadlines = stage_deadlines(1, received, acknowledged=written)
    mine = next(t for t in texts if first["message_id"] in t)
    assert f"{deadlines.respond_by:%A %d %B %Y}" in mine and "expression of dissatisfaction" in mine
    assert "This email acknowledges your complaint" in mine
    assert "To: " + first["sender_addr"] in mine


# -- units: what Dovecot cannot show ----------------------------------------------------------
class FakeClient:
    """Records calls; a server without MOVE."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def has_capability(self, name: str) -> bool:
        return False

    def folder_exists(self, name: str) -> bool:
        return True

    def add_flags(self, uids: list[int], flags: list[bytes], silent: bool = False) -> None:
        self.calls.append(("add_flags", tuple(uids), tuple(flags)))

    def copy(self, uids: list[int], folder: str) -> None:
        self.calls.append(("copy", tuple(uids), folder))


def test_without_move_a_move_is_a_copy_and_the_original_is_never_flagged_deleted() -> None:
    source = ImapSource.model_validate(
        {
            "type": "imap",
            "host": "127.0.0.1",
            "tls": "none",
            "username": "u",
            "password_env": "P",
            "on_stored": {"move_to": "Triage/{queue}"},
        }
    )
    client = FakeClient()
    counts = actions.apply(client, source, "INBOX", [Pending(1, 7, False, True, 1, "complaint", "Complaints team")], ".", True)  # type: ignore[arg-type]
    assert (counts.moved, counts.copied) == (0, 1)
    assert ("copy", (7,), "Triage.Complaints team") in client.calls
    assert all(b"\\Deleted" not in c[2] for c in client.calls if c[0] == "add_flags")


def test_keywords_need_permanentflags_star() -> None:
    assert actions.keywords_allowed({b"PERMANENTFLAGS": (b"\\Seen", b"\\*")})
    assert not actions.keywords_allowed({b"PERMANENTFLAGS": (b"\\Seen", b"\\Deleted")})
    assert actions.keywords_for(Pending(1, 1, False, True, 1, "service_request", "Repairs and Maintenance", True)) == [
        "triage:service_request",
        "triage:repairs-and-maintenance",
        "triage:needs-review",
    ]


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, 3)
    assert [b.next_delay() for _ in range(5)] == [0.5, 1, 2, 3, 3]
    b.reset()
    assert b.next_delay() == 0.5


def test_the_shipped_mailbox_pipeline_loads_and_keeps_secrets_out() -> None:
    pipeline = load(ROOT / "pipelines" / "mailbox.toml")
    source = pipeline.sources[0]
    assert isinstance(source, ImapSource) and source.password_env == "TRIAGE_IMAP_PASSWORD"
    assert not source.on_stored.mark_seen and not source.drafts.enabled and source.on_stored.move_to is None


def test_a_stop_request_ends_after_the_current_batch_and_the_next_run_resumes(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient
) -> None:
    for i in range(20):
        admin.append("INBOX", make_email(subject=f"Fence {i}", message_id=f"<stop-{i}@example.com>"))
    path = write_pipeline(tmp_path, dovecot, user, batch=5, model=False)
    pipeline = load(path)
    stop = threading.Event()
    with Store(pipeline.store_url()) as store:
        first = watch_pipeline(pipeline, store, stop, after_store=lambda folder, uids: stop.set())  # not once: only stop ends it
        assert first.counts.stored == 5 and checkpoint.read(store, f"{user.name}@127.0.0.1", "INBOX") == checkpoint.Checkpoint(
            admin.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"], 5
        )
    second = run_once(path)
    assert (second.counts.seen, second.counts.stored) == (15, 15)
    assert stored_uids(tmp_path / "triage.db") == list(range(1, 21))


def test_two_mailboxes_in_one_pipeline_are_watched_side_by_side(
    tmp_path: Path, dovecot: Dovecot, user: User, admin: IMAPClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = dovecot.new_user()
    other_admin = dovecot.client(other)
    append_sample(admin, 3)
    for p in SAMPLE[10:14]:
        other_admin.append("INBOX", p.read_bytes())
    other_admin.logout()
    path = write_pipeline(tmp_path, dovecot, user)
    text = path.read_text()
    second = text[text.index("[[sources]]") :].replace(user.name, other.name).replace(PW_ENV, PW_ENV + "_2")
    path.write_text(text + "\n" + second)
    monkeypatch.setenv(PW_ENV + "_2", other.password)
    result = run_once(path)
    assert result.counts.stored == 7 and result.classified.get("needs_review") is not None
    with Store(tmp_path / "triage.db") as store:
        assert store.count("classifications") == 7


class ShortReplyClient:
    """A server whose first FETCH reply leaves UIDs out: 3 is still in the folder, 4 was expunged."""

    def __init__(self) -> None:
        self.fetches: list[list[int]] = []

    def search(self, criteria: list[str]) -> list[int]:
        assert criteria[0] == "UID"
        return [u for u in map(int, criteria[1].split(",")) if u == 3]

    def fetch(self, uids: list[int], what: list[bytes]) -> dict[int, dict[bytes, bytes]]:
        self.fetches.append(list(uids))
        return {u: {b"BODY[]": b"Subject: x\r\n\r\nbody"} for u in uids if u == 3}


def test_a_uid_left_out_of_a_fetch_reply_is_fetched_again_or_logged(caplog: pytest.LogCaptureFixture) -> None:
    from triage.watcher import _fetch_missing

    client = ShortReplyClient()
    source = SimpleNamespace(mailbox="shared")
    fetched = {1: {b"BODY[]": b"a"}, 2: {b"BODY[]": b"b"}}
    with caplog.at_level("INFO"):
        _fetch_missing(client, source, "INBOX", [1, 2, 3, 4], fetched)  # type: ignore[arg-type]
    assert sorted(fetched) == [1, 2, 3] and client.fetches == [[3]]
    assert "UID 4 was removed by another client" in caplog.text
