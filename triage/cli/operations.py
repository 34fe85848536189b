"""Running triage for years: ``triage purge`` (retention), ``triage backup``, ``triage restore``
and ``triage health``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from triage.cli.common import date_type, friendly_errors, store_opt
from triage.errors import TriageError

F = TypeVar("F", bound=Callable[..., Any])
store_or_pipeline = [
    store_opt(None, "SQLite file or postgresql:// URL (default: the pipeline's, else triage.db)."),
    click.option(
        "--pipeline",
        "pipeline_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="A pipeline file: its store (and, for purge, its [retention] period).",
    ),
]


def _options(func: F) -> F:
    for option in reversed(store_or_pipeline):
        func = option(func)
    return func


def _store_url(store: str | None, pipeline_file: Path | None) -> str:
    if store:
        return store
    if pipeline_file:
        from triage.pipeline import load

        return load(pipeline_file).store_url()
    return "triage.db"


@click.command()
@click.option("--before", type=date_type, default=None, help="Purge cases closed before this date (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@click.option("--by", "by", default="triage purge", show_default=True, help="Who runs the purge (recorded with it).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@_options
@friendly_errors
def purge(before: datetime | None, dry_run: bool, by: str, as_json: bool, store: str | None, pipeline_file: Path | None) -> None:
    """Remove what residents wrote from cases closed before a date (retention), keeping the counts.

    Messages' text, addresses, raw bytes and attachments, evidence phrases, notes and the case's
    resident go; dates, labels, themes, queues, stages and outcomes stay, so reports count the
    same. Open cases are never touched. Messages on no case received before the date go too.
    Without --before, the pipeline file's [retention] closed_cases_days sets the date.

    Example:

    \b
        triage purge --before 2020-12-01 --dry-run --store triage.db
        triage purge --pipeline pipelines/mailbox.toml --by "J Okafor"
    """
    from triage.store.db import Store
    from triage.store.retention import purge as run_purge

    if before is not None:
        cutoff = before.date()
    elif pipeline_file is not None:
        from triage.pipeline import load

        days = load(pipeline_file).retention.closed_cases_days
        if days is None:
            raise TriageError(f"{pipeline_file} sets no [retention] closed_cases_days: add it, or give --before DATE.")
        cutoff = date.today() - timedelta(days=days)
    else:
        raise TriageError("give --before DATE, or --pipeline FILE whose [retention] closed_cases_days sets the date.")
    with Store(_store_url(store, pipeline_file)) as db:
        result = run_purge(db, cutoff, by, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    verb = "Would purge" if dry_run else "Purged"
    click.echo(
        f"{verb} {len(result.case_ids)} cases closed before {cutoff.isoformat()} and {result.messages} messages "
        f"({result.attachments} attachments, {result.bytes:,} bytes of mail)."
    )
    if dry_run:
        click.echo("Nothing was changed. Run again without --dry-run to purge.")


@click.command()
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@_options
@friendly_errors
def backup(out: Path, overwrite: bool, store: str | None, pipeline_file: Path | None) -> None:
    """Back up the store to OUT while triage keeps running (SQLite: a checked copy; PostgreSQL:
    a pg_dump custom-format archive).

    Example:

        triage backup backups/triage-2026-12-07.db --store triage.db
    """
    from triage.store.backup import backup as run_backup

    result = run_backup(_store_url(store, pipeline_file), out, overwrite)
    click.echo(f"Backed up the {result.kind} store to {result.path} ({result.bytes:,} bytes).")


@click.command()
@click.argument("backup_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace a store that already has data (stop watch and serve first).")
@_options
@friendly_errors
def restore(backup_file: Path, overwrite: bool, store: str | None, pipeline_file: Path | None) -> None:
    """Restore a backup made by `triage backup` into a store (a new one unless --overwrite), and
    bring it up to this version's schema.

    Example:

        triage restore backups/triage-2026-12-07.db --store restored.db
    """
    from triage.store.backup import restore as run_restore

    url = _store_url(store, pipeline_file)
    run_restore(backup_file, url, overwrite)
    click.echo(f"Restored {backup_file} into {url}.")


@click.command()
@click.argument("pipeline_arg", metavar="[PIPELINE]", required=False, type=click.Path(path_type=Path, dir_okay=False))
@store_opt(None, "Check this store instead of the pipeline's (SQLite file or postgresql:// URL).")
@click.option("--model", type=click.Path(path_type=Path, file_okay=False), default=None, help="Check this model folder.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ok, and each check.")
@friendly_errors
def health(pipeline_arg: Path | None, store: str | None, model: Path | None, as_json: bool) -> None:
    """Check the store, the model and every IMAP mailbox of a pipeline; exit 1 saying why when
    one is unreachable or wrong (for a monitor, or systemd's ExecStartPre).

    Example:

    \b
        triage health pipelines/mailbox.toml
        triage health --store postgresql://triage@db/triage --model models/default --json
    """
    from triage.health import run_checks
    from triage.pipeline import load

    pipeline = load(pipeline_arg) if pipeline_arg else None
    if pipeline is None and store is None and model is None:
        raise TriageError("give a pipeline file, or --store and/or --model, to check.")
    checks = run_checks(pipeline, store, model)
    ok = all(c.ok for c in checks)
    if as_json:
        click.echo(json.dumps({"ok": ok, "checks": [c.as_dict() for c in checks]}))
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'}  {c.what:<8} {c.name}: {c.detail}")
    if not ok:
        raise SystemExit(1)
