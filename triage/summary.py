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
    if result.classified:
        kinds = Table(title="Classified", title_justify="left")
        kinds.add_column("kind")
        kinds.add_column("messages", justify="right")
        for kind, n in sorted(result.classified.items(), key=lambda kv: -kv[1]):
            if kind != "needs_review":
                kinds.add_row(kind, str(n))
        kinds.add_row("[i]of which need review[/i]", str(result.classified.get("needs_review", 0)))
        console.print(kinds)
    if result.cases:
        c = result.cases
        joined = sum(n for rule, n in c.items() if rule != "new")
        console.print(
            f"Cases: {c.get('new', 0)} opened; {joined} message(s) joined an existing case "
            f"({', '.join(f'{n} by {rule}' for rule, n in sorted(c.items()) if rule != 'new') or 'none'}). "
            "`triage case list` shows them."
        )


def format_quarantine(rows: list[dict[str, Any]]) -> str:
    """One item per block, not a table: paths and reasons are long and must not be wrapped."""
    blocks = [
        f"#{r['id']} [{r['status']}] held {r['created_at']:%Y-%m-%d %H:%M} UTC\n  source: {r['source']}\n  reason: {r['reason']}"
        for r in rows
    ]
    return "\n".join(blocks)
