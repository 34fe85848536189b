"""The triage command through click's CliRunner: summaries, idempotency, bad input, help."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import ROOT, make_email, sample_pipeline

from triage.cli import cli


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_json_summary_and_rerun_stores_nothing(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    for n in range(3):
        (tmp_path / "mail" / f"{n}.eml").write_bytes(make_email(message_id=f"<{n}@x>"))
    (tmp_path / "mail" / "copy.eml").write_bytes(make_email(message_id="<0@x>"))
    (tmp_path / "mail" / "notes.txt").write_text("shopping list")
    store = str(tmp_path / "t.db")
    code, out, _ = invoke("ingest", str(tmp_path / "mail"), "--store", store, "--json")
    summary = json.loads(out)
    assert code == 0
    assert {k: summary[k] for k in ("seen", "stored", "duplicates", "quarantined")} == {
        "seen": 5,
        "stored": 3,
        "duplicates": 1,
        "quarantined": 1,
    }
    code, out, _ = invoke("ingest", str(tmp_path / "mail"), "--store", store)
    assert code == 0 and "Nothing new: every message was already in the store." in out


def test_sample_pipeline_runs_and_is_idempotent(tmp_path: Path) -> None:
    # Copy the pipeline beside a scratch store so the test never touches the user's triage.db.
    code, out, err = invoke("run", str(sample_pipeline(tmp_path)), "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["stored"] >= 70 and first["quarantined"] == 0 and first["errors"] == []
    assert sum(n for k, n in first["classified"].items() if k != "needs_review") == first["stored"]
    assert (tmp_path / "triage.db").exists()
    code, out, _ = invoke("run", str(tmp_path / "pipelines" / "sample.toml"), "--json")
    second = json.loads(out)
    assert code == 0 and second["stored"] == 0 and second["duplicates"] == first["seen"]
    assert second["classified"] == {}  # nothing new to classify


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[pipeline]\nname="x"\ncolour="red"\n[[sources]]\ntype="files"\npaths=["m"]\n', "unknown key 'pipeline.colour'"),
        ('[pipeline]\nname="x"\n[[sources]]\ntype="files"\npaths="m"\n', "sources[0].paths: Input should be a valid list"),
        ('[pipeline]\nname="x"\n[[sources]]\ntype="ftp"\n', "sources[0]"),
        ("[pipeline]\nname = \n", "not valid TOML"),
        ('[pipeline]\nname="x"\n', "missing key 'sources'"),
    ],
)
def test_broken_pipeline_files_get_one_clear_message(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    code, out, err = invoke("run", str(path))
    assert code == 1
    assert err.startswith(f"Error: {path}: ") and expected in err
    assert "Traceback" not in err + out


def test_missing_file_and_folder_without_mail(tmp_path: Path) -> None:
    code, _, err = invoke("ingest", str(tmp_path / "nope.eml"), "--store", str(tmp_path / "t.db"))
    assert code == 1 and "nope.eml: no such file or folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("ingest", str(tmp_path / "empty"), "--store", str(tmp_path / "t.db"))
    assert code == 1 and "nothing readable was found there" in err


def test_wrong_survey_column_is_reported_kept_and_other_sources_still_run(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "a.eml").write_bytes(make_email())
    (tmp_path / "survey.csv").write_text("Reply,Date\nthe fence is down,2026-11-01\n")
    (tmp_path / "job.toml").write_text(
        '[pipeline]\nname="x"\nstore="t.db"\n[[sources]]\ntype="survey"\npath="survey.csv"\n'
        '[sources.columns]\ntext="Answer"\n[[sources]]\ntype="files"\npaths=["mail"]\n'
    )
    code, out, err = invoke("run", str(tmp_path / "job.toml"), "--json")
    assert code == 1
    assert "survey.csv: the survey column 'Answer' (mapped as 'text') is not in the file" in err
    assert "Columns that exist: 'Reply', 'Date'" in err
    summary = json.loads(out)
    assert summary["stored"] == 1 and summary["quarantined"] == 1  # the survey file is kept whole
    code, out, _ = invoke("quarantine", "list", "--store", str(tmp_path / "t.db"), "--json")
    assert "survey.csv" in out


def test_quarantine_list_show_and_retry(tmp_path: Path) -> None:
    store = str(tmp_path / "t.db")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "junk.eml").write_bytes(b"not mail at all")
    invoke("ingest", str(tmp_path / "m"), "--store", store)
    code, out, _ = invoke("quarantine", "list", "--store", store)
    assert code == 0 and "junk.eml" in out and "not an email message" in out
    code, out, _ = invoke("quarantine", "show", "1", "--store", store)
    assert code == 0 and "Reason:   not an email message" in out and "not mail at all" in out
    code, out, _ = invoke("quarantine", "retry", "1", "--store", store)
    assert code == 1 and out.startswith("Held: still cannot be read")
    code, _, err = invoke("quarantine", "show", "99", "--store", store)
    assert code == 1 and "there is no quarantined item 99" in err


def test_retry_releases_an_item_that_now_parses(tmp_path: Path) -> None:
    from triage.jobs import retry_quarantined
    from triage.message import Quarantined, Source
    from triage.store.db import Store

    with Store(tmp_path / "t.db") as store:
        # Held by an earlier triage that could not read it; this one can.
        store.add([Quarantined(Source("file", path="old.eml"), "parser crashed in version 0.0.1", make_email())])
        ok, detail = retry_quarantined(store, 1)
        assert ok and "stored (message 1)" in detail
        assert store.count() == 1 and store.quarantined() == []


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(cli))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    code, out, _ = invoke(*path, "--help")
    assert code == 0 and "Example:" in out


def test_console_script_is_installed() -> None:
    assert shutil.which("triage") or (ROOT / ".venv" / "bin" / "triage").exists()
