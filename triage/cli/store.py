"""``triage store``: the store itself (moving it to PostgreSQL)."""

from __future__ import annotations

import click

from triage.cli.common import friendly_errors


@click.group()
def store() -> None:
    """The message store itself.

    Example:

        triage store copy triage.db postgresql://triage@db.internal/triage
    """


@store.command("copy")
@click.argument("source")
@click.argument("target")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@friendly_errors
def store_copy(source: str, target: str, quiet: bool) -> None:
    """Copy a store (a SQLite file) into another database (a PostgreSQL URL), keys and all.

    Each row is copied exactly once: run it again after an interruption and it carries on
    where it stopped. Stop the pipelines and the review app first; afterwards point their
    store = at the target.

    Example:

        triage store copy triage.db postgresql://triage@db.internal/triage
    """
    from triage.store.copy import copy_store
    from triage.store.db import Store

    def progress(table: str, done: int) -> None:
        if not quiet:
            click.echo(f"{table}: {done:,} rows", err=True)

    with Store(source) as src, Store(target) as dst:
        result = copy_store(src, dst, progress=progress)
    copied, skipped = sum(result.copied.values()), sum(result.skipped.values())
    click.echo(f"Copied {copied:,} row(s) into {dst.url.split('@')[-1]}; {skipped:,} were there already.")
