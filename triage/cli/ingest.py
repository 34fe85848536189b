"""Reading mail in: ``triage ingest``, ``triage run`` and ``triage watch`` (IMAP)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from triage.cli.common import friendly_errors, store_option


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@friendly_errors
def ingest(paths: tuple[Path, ...], store: str, as_json: bool) -> None:
    """Ingest mail files and folders (.eml, .mbox, Maildir, Outlook .msg) into the store.

    Folders are walked recursively. Each message is stored once however often it is ingested;
    what cannot be read is quarantined with its reason. The summary counts messages seen,
    stored, duplicates and quarantined (seen = the sum of the other three).

    Example:

        triage ingest ~/exports/complaints.mbox saved-mail/ --store triage.db --json
    """
    from triage.jobs import ingest_paths, summary_json
    from triage.store.db import Store

    with Store(store) as db:
        result = ingest_paths(db, list(paths))
    _report(result, as_json, summary_json)


@click.command()
@click.argument("pipeline_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes that read mail files and run the model (a large import: one per core).",
)
@friendly_errors
def run(pipeline_file: Path, as_json: bool, workers: int) -> None:
    """Run a pipeline file: read its sources into its store and print a summary table.

    Several runs (and watchers) may share one store at once: each message is stored,
    classified and put on its case exactly once.

    Example:

        triage run pipelines/sample.toml --workers 2
    """
    from triage.jobs import run_pipeline, summary_json
    from triage.pipeline import load
    from triage.store.db import Store

    pipeline = load(pipeline_file)
    with Store(pipeline.store_url()) as db:
        result = run_pipeline(pipeline, db, workers)
        if not as_json:
            click.echo(f"Pipeline {pipeline.pipeline.name!r} -> {pipeline.store_url()}")
    _report(result, as_json, summary_json)


def _report(result: Any, as_json: bool, summary_json: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(summary_json(result))
    else:
        from triage.summary import print_summary

        print_summary(result)
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
    if result.errors:
        sys.exit(1)


@click.command()
@click.argument("pipeline_file", type=click.Path(path_type=Path))
@click.option("--once", is_flag=True, help="Read the mailboxes' backlog, then exit instead of waiting for new mail.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would be stored and done, for the backlog only; change neither the mailbox nor the store.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--quiet", is_flag=True, help="Log warnings only (no progress lines).")
@friendly_errors
def watch(pipeline_file: Path, once: bool, dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Keep the pipeline's IMAP mailboxes triaged: store, classify, then keyword or move each
    message; wait for new mail with IDLE (or poll). Stops cleanly on Ctrl-C or SIGTERM.

    Never deletes or expunges mail and never marks it read unless on_stored.mark_seen is set.
    The password or OAuth2 token comes from the environment variable or command the pipeline
    file names.

    Example:

        TRIAGE_IMAP_PASSWORD=... triage watch pipelines/mailbox.toml --dry-run --once
    """
    import logging

    from triage.ingest.imap.progress import make_reporter
    from triage.jobs import watch_pipeline
    from triage.logs import configure as configure_logging
    from triage.pipeline import load
    from triage.store.db import Store
    from triage.watcher import stop_on_signals

    configure_logging(
        click.get_current_context().find_root().params.get("log_format") or "text", logging.WARNING if quiet else logging.INFO
    )
    pipeline = load(pipeline_file)
    stop = stop_on_signals()
    with Store(pipeline.store_url(), upgrade=not dry_run) as db:
        result = watch_pipeline(
            pipeline, db, stop, once=once, dry_run=dry_run, reporter=None if quiet else make_reporter(sys.stderr.isatty())
        )
    for line in result.plans:
        click.echo(line)
    summary = {**result.counts.as_dict(), **result.actions.as_dict(), "classified": result.classified, "dry_run": dry_run}
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(
        ("Dry run, nothing changed: would have read " if dry_run else "Read ")
        + f"{summary['seen']} message(s): {summary['stored']} stored, {summary['duplicates']} already stored, "
        f"{summary['quarantined']} quarantined; keywords on {summary['keywords']}, moved {summary['moved']}, "
        f"copied {summary['copied']}, marked seen {summary['marked_seen']}, drafts {summary['drafts']}."
    )
