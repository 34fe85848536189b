"""Running as a service: ``triage health`` against a running store (SQLite, PostgreSQL) and a
running Dovecot, then against each one stopped; the systemd units pass ``systemd-analyze
verify``; ``triage serve`` logs JSON lines when asked."""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, skip_or_fail, started_dovecot
from dovecot import Dovecot, free_port

from triage.cli import cli
from triage.review.auth import add_user
from triage.store.db import Store

MODEL = ROOT / "models" / "default"
PW_ENV = "TRIAGE_TEST_HEALTH_PASSWORD"


def _pipeline(tmp_path: Path, store: str, server: Dovecot, user: str, model: Path = MODEL) -> Path:
    path = tmp_path / "mailbox.toml"
    path.write_text(
        f"""[pipeline]
name = "health"
store = {json.dumps(store)}
model = {json.dumps(str(model))}

[[sources]]
type = "imap"
host = "127.0.0.1"
port = {server.port}
tls = "none"
username = "{user}"
password_env = "{PW_ENV}"
timeout_seconds = 3
"""
    )
    return path


def _health(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["health", *args, "--json"])
    return result.exit_code, json.loads(result.output)


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this test's own, so stopping it disturbs no other test."""
    yield from started_dovecot()


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Path, list[str]]]:
    """A PostgreSQL server of this test's own (to stop it): its URL, data folder and runner."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        skip_or_fail("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="triage-health-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = folder / "data"
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"], check=True, capture_output=True
    )
    ctl = [*run_as, str(bindir / "pg_ctl"), "-D", str(data)]
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*ctl, "-o", opts, "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", folder, ctl
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_health_passes_then_names_the_stopped_mailbox(
    tmp_path: Path, own_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = own_dovecot.new_user()
    monkeypatch.setenv(PW_ENV, user.password)
    with Store(tmp_path / "triage.db"):
        pass
    pipeline = _pipeline(tmp_path, str(tmp_path / "triage.db"), own_dovecot, user.name)
    code, report = _health(str(pipeline))
    assert code == 0 and report["ok"] and [c["what"] for c in report["checks"]] == ["store", "model", "mailbox"]
    own_dovecot.stop()
    code, report = _health(str(pipeline))
    [mailbox] = [c for c in report["checks"] if not c["ok"]]
    assert code == 1 and mailbox["what"] == "mailbox" and f"cannot reach 127.0.0.1:{own_dovecot.port}" in mailbox["detail"]
    own_dovecot.start()
    monkeypatch.setenv(PW_ENV, "not the password")
    code, report = _health(str(pipeline))
    assert code == 1 and "refused the login" in report["checks"][2]["detail"]


def test_health_names_a_missing_store_and_a_changed_model(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(MODEL, model)
    with (model / "model.pkl.zlib").open("ab") as f:
        f.write(b"\0")
    code, report = _health("--store", str(tmp_path / "nowhere.db"), "--model", str(model))
    assert code == 1 and not (tmp_path / "nowhere.db").exists()  # health never creates a store
    store, changed = report["checks"]
    assert "no store file" in store["detail"] and "does not match the SHA-256" in changed["detail"]
    result = CliRunner().invoke(cli, ["health", "--store", str(tmp_path / "nowhere.db")])
    assert result.exit_code == 1 and result.output.startswith("FAIL  store")


def test_health_against_a_running_then_stopped_postgresql(own_postgres: tuple[str, Path, list[str]]) -> None:
    url, _, ctl = own_postgres
    with Store(url):
        pass
    code, report = _health("--store", url)
    assert code == 0 and report["checks"][0]["detail"].startswith("reachable, schema")
    subprocess.run([*ctl, "-m", "fast", "stop"], check=True, capture_output=True)
    code, report = _health("--store", url)
    assert code == 1 and "cannot reach the store" in report["checks"][0]["detail"]


def test_a_password_in_a_store_url_on_the_command_line_is_refused() -> None:
    result = CliRunner().invoke(cli, ["health", "--store", "postgresql://triage:hunter2@127.0.0.1/triage"])
    assert result.exit_code == 2 and "visible to every user" in result.output and "TRIAGE_STORE" in result.output
    result = CliRunner().invoke(cli, ["health"], env={"TRIAGE_STORE": "postgresql://triage:x@127.0.0.1:1/triage"})
    assert result.exit_code == 1 and "hunter2" not in result.output and ":x@" not in result.output


@pytest.mark.parametrize("unit", ["triage-watch.service", "triage-serve.service"])
def test_the_systemd_units_verify(tmp_path: Path, unit: str) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (systemd): the units are checked where systemd is")
    triage = Path(sys.executable).with_name("triage")
    text = (ROOT / "deploy" / "systemd" / unit).read_text().replace("/opt/triage/.venv/bin/triage", str(triage))
    (tmp_path / unit).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "ProtectSystem=strict" in text and "User=triage" in text and "LoadCredential=" in text
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(tmp_path / unit)], capture_output=True, text=True
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout + security.stderr)
    assert found and float(found.group(1)) <= 2.0, security.stdout[-400:]


def test_serve_logs_sign_ins_as_json_lines(tmp_path: Path) -> None:
    db = tmp_path / "triage.db"
    with Store(db) as store:
        add_user(store, "ann", "correct horse battery staple", "admin")
    port = free_port()
    triage = Path(sys.executable).with_name("triage")
    env = {**os.environ, "TRIAGE_LOG_FORMAT": "json", "TRIAGE_STORE": str(db)}
    process = subprocess.Popen(
        [str(triage), "serve", "--port", str(port), "--insecure-cookies"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with opener.open(f"{base}/sign-in", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({"name": "ann", "password": "wrong password!", "csrf_token": token}).encode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(f"{base}/sign-in", data=data, timeout=10)
        assert refused.value.code == 401
        refused.value.close()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    sign_ins = [entry for entry in lines if entry["logger"] == "triage.review.sign_in"]
    assert sign_ins and sign_ins[0]["outcome"] == "failure" and sign_ins[0]["user_name"] == "ann"
    assert {"time", "level", "message", "address"} <= set(sign_ins[0])
