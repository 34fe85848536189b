"""``triage quarantine``: items that could not be read as messages."""

from __future__ import annotations

import json
import sys

import click

from triage.cli.common import friendly_errors, store_option
from triage.errors import TriageError


@click.group()
def quarantine() -> None:
    """Items that could not be read as messages, kept whole with the reason.

    Example:

        triage quarantine list --store triage.db
    """


@quarantine.command("list")
@store_option
@click.option("--all", "show_all", is_flag=True, help="Include items already released into the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@friendly_errors
def quarantine_list(store: str, show_all: bool, as_json: bool) -> None:
    """List quarantined items: id, where it came from and why it was held.

    Example:

        triage quarantine list --store triage.db
    """
    from triage.store.db import Store

    with Store(store) as db:
        rows = db.quarantined(None if show_all else "held")
    if as_json:
        for row in rows:
            click.echo(json.dumps({**row, "created_at": row["created_at"].isoformat()}, default=str))
        return
    if not rows:
        click.echo("Nothing is in quarantine.")
        return
    from triage.summary import format_quarantine

    click.echo(format_quarantine(rows))


@quarantine.command("show")
@click.argument("item_id", type=int)
@store_option
@click.option("--raw", is_flag=True, help="Write the item's raw bytes to standard output.")
@friendly_errors
def quarantine_show(item_id: int, store: str, raw: bool) -> None:
    """Show one quarantined item: source, reason and the start of its raw bytes.

    Example:

        triage quarantine show 3 --raw > held-message.eml
    """
    from triage.store.db import Store

    with Store(store) as db:
        row = db.quarantine_item(item_id)
    if row is None:
        raise TriageError(f"there is no quarantined item {item_id}; `triage quarantine list` shows them.")
    if raw:
        sys.stdout.buffer.write(row["raw"])
        return
    click.echo(f"Item:     {row['id']} ({row['status']})")
    click.echo(f"Source:   {row['source']}")
    click.echo(f"Reason:   {row['reason']}")
    click.echo(f"Held at:  {row['created_at']:%Y-%m-%d %H:%M} UTC")
    click.echo(f"Size:     {len(row['raw'])} bytes")
    preview = row["raw"][:600].decode("utf-8", "replace")
    click.echo("--- first bytes ---")
    click.echo(preview)


@quarantine.command("retry")
@click.argument("item_ids", nargs=-1, type=int, required=True)
@store_option
@friendly_errors
def quarantine_retry(item_ids: tuple[int, ...], store: str) -> None:
    """Try to read quarantined items again; those that now parse move into the store.

    Example:

        triage quarantine retry 3 4
    """
    from triage.jobs import retry_quarantined
    from triage.store.db import Store

    failed = 0
    with Store(store) as db:
        for qid in item_ids:
            ok, detail = retry_quarantined(db, qid)
            click.echo(("Released: " if ok else "Held: ") + detail)
            failed += not ok
    if failed:
        sys.exit(1)
