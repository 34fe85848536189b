"""Human-readable summaries for the terminal (rich tables)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from triage.jobs import JobResult


def print_summary(result: JobResult, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Ingest summary", title_justify="left")
    table.add_column("source")
    for name in ("seen", "stored", "duplicates", "quarantined"):
        table.add_column(name, justify="right")
    for s in result.sources:
        c = s.counts
        table.add_row(s.name, str(c.seen), str(c.stored), str(c.duplicates), str(c.quarantined))
    total = result.total
    table.add_row("[b]total[/b]", str(total.seen), str(total.stored), str(total.duplicates), str(total.quarantined))
    console.print(table)
    if total.seen and total.stored == 0 and total.quarantined == 0:
        console.print("Nothing new: every message was already in the store.")
    if total.quarantined:
        console.print(f"{total.quarantined} item(s) quarantined; `triage quarantine list` shows why.")


def print_quarantine(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Quarantine", title_justify="left")
    for name in ("id", "status", "held at (UTC)", "source", "reason"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r["id"]), r["status"], f"{r['created_at']:%Y-%m-%d %H:%M}", r["source"], r["reason"])
    console.print(table)
