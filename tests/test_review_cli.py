"""Review-app commands: user add/list/disable, serve's checks, export-reviews, train --with-reviews."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT

from triage.classify.data import read_examples
from triage.cli import cli
from triage.review import auth, decisions
from triage.review.export import export_reviews
from triage.store.db import Store


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_user_add_list_disable(tmp_path: Path) -> None:
    store = str(tmp_path / "t.db")
    code, out, _ = invoke("user", "add", "ann", "--role", "admin", "--password-env", "PW", "--store", store, env={"PW": "x" * 12})
    assert (code, out) == (0, "Added ann (admin).\n")
    code, out, _ = invoke("user", "add", "rob", "--store", store, stdin="a long passphrase\na long passphrase\n")
    assert code == 0 and "Added rob (reviewer)." in out
    code, _, err = invoke("user", "add", "rob", "--password-env", "PW", "--store", store, env={"PW": "x" * 12})
    assert code == 1 and "already a user called 'rob'" in err
    code, _, err = invoke("user", "add", "eve", "--password-env", "NOPE", "--store", store)
    assert code == 1 and "NOPE is not set" in err
    assert invoke("user", "disable", "rob", "--store", store)[1] == "Disabled rob.\n"
    code, out, _ = invoke("user", "list", "--store", store)
    assert out.split() == ["ann", "admin", "active", "rob", "reviewer", "disabled"]
    code, _, err = invoke("user", "disable", "zed", "--store", store)
    assert code == 1 and "no user called 'zed'" in err


def test_serve_refuses_a_store_without_users(tmp_path: Path) -> None:
    code, _, err = invoke("serve", "--store", str(tmp_path / "t.db"))
    assert code == 1 and "has no users yet" in err and "triage user add" in err


def test_export_reviews_is_redacted_training_data_and_train_uses_it(tmp_path: Path, classified_store: Store) -> None:
    user = auth.add_user(classified_store, "ann", "a long passphrase", "admin")
    rows = decisions.to_confirm(classified_store)
    for row in rows[:3]:
        decisions.confirm(classified_store, row["id"], user, 0)
    decisions.record(classified_store, rows[3]["id"], user, decisions.Decision("complaint", True, ["repairs"]), 0)

    # a tiny corpus, as the classifier's own end-to-end test uses, with the reviews beside it
    data = tmp_path / "data"
    for split, take in (("train", 60), ("dev", 15)):
        (data / split).mkdir(parents=True)
        for path in sorted((ROOT / "training_data" / split).glob("*.jsonl")):
            lines = path.read_text(encoding="utf-8").splitlines()[:take]
            (data / split / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = data / "reviews" / "reviews.jsonl"
    code, text, _ = invoke("export-reviews", "--store", classified_store.url.removeprefix("sqlite:///"), "--out", str(out))
    assert code == 0 and text.startswith("Wrote 4 reviewed items") and "(3 confirmed, 1 corrected)" in text
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"] for r in records} == {f"rev-{r['id']}" for r in rows[:4]}
    assert all(r["from_name"] == "" and "@" not in r["body"] for r in records)
    corrected = next(r for r in records if r["id"] == f"rev-{rows[3]['id']}")
    assert corrected["labels"] == {"kind": "complaint", "dissatisfied": True, "themes": ["repairs"]}
    assert corrected["tags"] == ["review:corrected"]
    assert len(read_examples(out)) == 4  # the training reader accepts them

    config = tmp_path / "train.toml"
    config.write_text('[data]\nroot = "data"\n[model]\nname = "tiny"\noutput = "models"\n[params]\nfolds = 3\n')
    code, _, err = invoke("train", "--config", str(config), "--with-reviews", "--json")
    assert code == 0, err
    meta = json.loads((tmp_path / "models" / "tiny" / "model.json").read_text())
    reviews = meta["training_data"]["reviews"]
    assert reviews["examples"] + reviews["held_back"] == 4 and reviews["files"] == ["reviews.jsonl"]
    assert "staff-reviewed messages" in (tmp_path / "models" / "tiny" / "MODEL.md").read_text()
    assert meta["metrics"]["dev"]["examples"] == sum(len(read_examples(p)) for p in (data / "dev").glob("*.jsonl"))


def test_train_with_reviews_but_none_exported_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "data" / "train").mkdir(parents=True)
    (tmp_path / "train.toml").write_text('[data]\nroot = "data"\n')
    code, _, err = invoke("train", "--config", str(tmp_path / "train.toml"), "--with-reviews")
    assert code == 1 and "Run `triage export-reviews` first" in err


def test_export_keeps_public_body_domains_only(classified_store: Store, tmp_path: Path) -> None:
    from triage.review.export import record

    message = {"id": 1, "channel": "email", "sender_name": "Jo Bloggs", "subject": "Hi", "body_quoted": "> old"}
    decision = {"kind": "mp_enquiry", "dissatisfied": False, "themes": [], "action": "confirmed"}
    mp = record({**message, "sender_addr": "jo.bloggs.mp@parliament.uk", "body_new": "Jo Bloggs MP writes"}, decision)
    resident = record({**message, "sender_addr": "jo@gmail.example", "body_new": "x"}, decision)
    assert mp["from_addr"] == "redacted@parliament.uk" and "Bloggs" not in mp["body"] and resident["from_addr"] == ""
    assert export_reviews(classified_store, tmp_path / "none.jsonl") == {"confirmed": 0, "corrected": 0}


def test_serve_starts_the_app_on_loopback(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    store = str(tmp_path / "t.db")
    assert invoke("user", "add", "ann", "--role", "admin", "--password-env", "PW", "--store", store, env={"PW": "x" * 12})[0] == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "triage.cli", "serve", "--store", store, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=2) as response:
                    assert response.status == 200 and "default-src 'none'" in response.headers["Content-Security-Policy"]
                    assert "Secure" in response.headers["Set-Cookie"]
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    server.stderr.read().decode() if server.poll() else "timeout"
                )
                time.sleep(0.2)
    finally:
        server.terminate()
        server.communicate(timeout=10)
