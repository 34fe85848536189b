"""``triage learning``: learning outcomes, and the learning log's import and export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from triage.cli.common import by_option, date_or_today, date_type, friendly_errors, store_option, today_option
from triage.errors import TriageError
from triage.labels import ACTION_TYPES, OUTCOME_STATUSES, RISKS


def _outcome_line(o: Any, today: Any) -> str:
    target = f"target {o.target_date:%d %b %Y}" if o.target_date else "no target"
    if o.past_target(today):
        target += " PAST"
    cases = ", ".join(c.ref + ("" if c.case_pk is not None else " (no case)") for c in o.cases) or "-"
    return (
        f"{o.reference:<10} {o.risk:<6} {o.status:<12} {target:<22} {o.service_area or '-':<24} {o.theme or '-':<16} "
        f"cases {cases}\n           {o.description[:90]}"
    )


@click.group()
def learning() -> None:
    """Learning outcomes: what a complaint taught, the action, its owner, risk and target.

    Example:

        triage learning list --status open --risk red
    """


@learning.command("add")
@click.option("--description", required=True, help="What went wrong.")
@click.option("--action", default="", help="What will change.")
@click.option("--action-type", type=click.Choice(ACTION_TYPES), default="other", show_default=True, help="The kind of change.")
@click.option("--area", default="", help="The service area that owns the action, e.g. 'Repairs and Maintenance'.")
@click.option("--theme", default="", help="One of triage's themes, e.g. damp_mould.")
@click.option(
    "--risk",
    type=click.Choice(RISKS),
    required=True,
    help="Risk of a repeat complaint or an Ombudsman finding if not done.",
)
@click.option("--target", type=date_type, default=None, help="Target date for the action.")
@click.option("--identified", type=date_type, default=None, help="Date the learning was identified (default today).")
@click.option("--case", "case_refs", multiple=True, help="A case id or the landlord's case reference; repeat for more.")
@click.option("--reference", default="", help="Your reference for it (default LO-<number>).")
@store_option
@by_option
@friendly_errors
def learning_add(
    description: str,
    action: str,
    action_type: str,
    area: str,
    theme: str,
    risk: str,
    target: Any,
    identified: Any,
    case_refs: tuple[str, ...],
    reference: str,
    store: str,
    by: str,
) -> None:
    """Record a learning outcome against one or more cases.

    Example:

        triage learning add --case 12 --case CMP-10417 --risk red --area "Repairs and Maintenance" --theme damp_mould --description "Mould reports closed without an inspection" --action "Inspect every mould report within 10 working days" --action-type process --target 2027-01-29 --by "J Okafor"
    """
    from triage.learning.records import CaseLink, Outcome, add_outcome, normalise_area, normalise_theme
    from triage.store.db import Store

    chosen = normalise_theme(theme)
    if chosen is None:
        from triage.labels import THEMES

        raise TriageError(f"--theme {theme!r} is not one of triage's themes: {', '.join(THEMES)}.")
    outcome = Outcome(
        description=description.strip(),
        action=action.strip(),
        action_type=action_type,
        service_area=normalise_area(area),
        theme=chosen,
        risk=risk,
        identified=date_or_today(identified),
        target_date=target.date() if target else None,
        cases=[CaseLink(ref) for ref in case_refs],
        reference=reference.strip(),
    )
    with Store(store) as db:
        stored = add_outcome(db, outcome, by)
    click.echo(f"Recorded learning outcome {stored.reference} ({stored.risk}).")
    for link in stored.cases:
        click.echo(f"  case {link.ref}: case {link.case_pk}")


@learning.command("list")
@store_option
@click.option("--status", type=click.Choice(OUTCOME_STATUSES), default=None)
@click.option("--risk", type=click.Choice(RISKS), default=None)
@click.option("--area", default=None, help="Service area.")
@click.option("--case", "case_pk", type=int, default=None, help="Only outcomes linked to this case id.")
@click.option("--past-target", is_flag=True, help="Only open outcomes past their target date.")
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def learning_list(
    store: str,
    status: str | None,
    risk: str | None,
    area: str | None,
    case_pk: int | None,
    past_target: bool,
    today: Any,
    as_json: bool,
) -> None:
    """List learning outcomes, oldest identified first, with their cases.

    Example:

        triage learning list --past-target --area "Repairs and Maintenance"
    """
    from triage.learning.records import list_outcomes
    from triage.store.db import Store

    day = date_or_today(today)
    with Store(store) as db:
        found = list_outcomes(
            db, status=status, risk=risk, area=area, case_pk=case_pk, past_target_on=day if past_target else None
        )
    for o in found:
        click.echo(json.dumps(o.as_dict()) if as_json else _outcome_line(o, day))
    if not found and not as_json:
        click.echo("No learning outcomes match.")


@learning.command("done")
@click.argument("outcome")
@click.option("--on", "on", type=date_type, default=None, help="Date implemented (default today).")
@store_option
@by_option
@friendly_errors
def learning_done(outcome: str, on: Any, store: str, by: str) -> None:
    """Mark a learning outcome implemented (by its reference or number).

    Example:

        triage learning done LO-0003 --on 2027-01-20 --by "J Okafor"
    """
    from triage.learning.records import mark_implemented
    from triage.store.db import Store

    with Store(store) as db:
        done = mark_implemented(db, outcome, date_or_today(on), by)
    click.echo(f"Learning outcome {done.reference} implemented on {done.implemented:%d %b %Y}.")


@learning.command("drop")
@click.argument("outcome")
@click.option("--reason", required=True, help="Why it will not be done.")
@click.option("--on", "on", type=date_type, default=None, help="Date dropped (default today).")
@store_option
@by_option
@friendly_errors
def learning_drop(outcome: str, reason: str, on: Any, store: str, by: str) -> None:
    """Drop a learning outcome that will not be done, with the reason.

    Example:

        triage learning drop LO-0004 --reason "Superseded by the new repairs policy (LO-0007)" --by "J Okafor"
    """
    from triage.learning.records import drop_outcome
    from triage.store.db import Store

    with Store(store) as db:
        dropped = drop_outcome(db, outcome, reason, date_or_today(on), by)
    click.echo(f"Learning outcome {dropped.reference} dropped: {dropped.dropped_reason}")


@learning.command("import")
@click.argument("log_file", type=click.Path(path_type=Path))
@click.option("--map", "map_file", type=click.Path(path_type=Path), default=None, help="TOML column map for another layout.")
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to keep the rows that could not be imported (default <file>-rejected.csv beside the log).",
)
@store_option
@by_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@friendly_errors
def learning_import(log_file: Path, map_file: Path | None, rejects: Path | None, store: str, by: str, as_json: bool) -> None:
    """Import a landlord's learning log (CSV or XLSX); importing it again updates it.

    Default columns: reference, cases, description, action, action_type, service_area, theme,
    risk, identified, target_date, status, implemented, dropped_on, dropped_reason. Rows that cannot be
    imported are listed with their row numbers and kept in a rejects file to correct.

    Example:

        triage learning import learning-log-2026.xlsx --map pipelines/learning-map.toml --by "J Okafor"
    """
    from triage.learning.io import header_of, import_log, load_map, write_rejects
    from triage.store.db import Store

    if not log_file.exists():
        raise TriageError(f"{log_file}: no such learning log file.")
    learning_map = load_map(map_file)
    with Store(store) as db, db.transaction() as conn:
        result = import_log(conn, log_file, learning_map, by)
    if result.bad_rows:
        rejects = rejects or log_file.with_name(f"{log_file.stem}-rejected.csv")
        write_rejects(result, rejects, header_of(log_file))
    if as_json:
        click.echo(json.dumps({**result.as_json(), "rejects": str(rejects) if result.bad_rows else None}))
        return
    click.echo(
        f"{log_file}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, {len(result.bad_rows)} not imported."
    )
    for bad in result.bad_rows:
        click.echo(f"  row {bad['row']} ({bad['reference'] or 'no reference'}): {bad['reason']}")
    for u in result.unmatched_cases[:10]:
        click.echo(f"  row {u['row']} ({u['reference']}): case {u['case']!r} matches no case; kept as given")
    if len(result.unmatched_cases) > 10:
        click.echo(
            f"  ... and {len(result.unmatched_cases) - 10} more case references that match no case (--json lists them all)"
        )
    if result.bad_rows:
        click.echo(f"Rows not imported are kept in {rejects}: correct them there and import that file.")


@learning.command("export")
@click.argument("out_file", type=click.Path(path_type=Path))
@click.option("--map", "map_file", type=click.Path(path_type=Path), default=None, help="TOML column map: write that layout.")
@click.option("--status", type=click.Choice(OUTCOME_STATUSES), default=None)
@store_option
@friendly_errors
def learning_export(out_file: Path, map_file: Path | None, status: str | None, store: str) -> None:
    """Export learning outcomes as CSV or XLSX (by the file's extension), ready to import again.

    Example:

        triage learning export learning-log.xlsx --status open
    """
    from triage.learning.io import export_log, load_map
    from triage.learning.records import list_outcomes
    from triage.store.db import Store

    learning_map = load_map(map_file)
    with Store(store) as db:
        found = list_outcomes(db, status=status)
    export_log(found, out_file, learning_map)
    click.echo(f"Written {len(found)} learning outcomes to {out_file}.")
