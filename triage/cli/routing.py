"""Routing: ``triage deadlines``, ``triage audit`` (ghost stages) and ``triage queue``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from triage.cli.common import date_type, friendly_errors, nation_option, store_option, today_option
from triage.errors import TriageError


@click.command()
@click.option("--received", type=date_type, required=True, help="Date received (stage 2: the escalation request).")
@click.option("--acknowledged", type=date_type, default=None, help="Date acknowledged, if it has been.")
@nation_option
@click.option("--json", "as_json", is_flag=True, help="Print the dates as JSON.")
def deadlines(received: Any, acknowledged: Any, nation: str, as_json: bool) -> None:
    """Complaint Handling Code deadlines in working days, for stage 1 and stage 2.

    Acknowledge-by is 5 working days after receipt (6.2) or the escalation request (6.11);
    respond-by is 10 (stage 1, 6.3) or 20 (stage 2, 6.14) working days after the acknowledgement
    (or after the acknowledge-by date when --acknowledged is not given); the extended date adds the
    longest extension the Code allows without good reason (6.4, 6.15).

    Example:

        triage deadlines --received 2026-12-24 --nation wales --json
    """
    from triage.route.deadlines import RULES, stage_deadlines

    ack = acknowledged.date() if acknowledged else None
    result = {f"stage{n}": stage_deadlines(n, received.date(), ack, nation) for n in (1, 2)}
    if as_json:
        click.echo(json.dumps({k: v.as_dict() for k, v in result.items()}))
        return
    click.echo(f"Received {received:%a %d %b %Y}, working days in {nation.replace('-', ' ').title()}:")
    for n, d in ((1, result["stage1"]), (2, result["stage2"])):
        ack_rule, resp_rule = RULES[f"stage{n}_acknowledge"], RULES[f"stage{n}_respond"]
        click.echo(
            f"  stage {n}: acknowledge by {d.acknowledge_by:%a %d %b %Y} ({ack_rule.working_days} working days, Code {ack_rule.code})"
        )
        click.echo(
            f"           respond by     {d.respond_by:%a %d %b %Y} ({resp_rule.working_days} working days, Code {resp_rule.code})"
        )
        click.echo(f"           extended, at most {d.extended_respond_by:%a %d %b %Y} (+{resp_rule.extension_working_days})")


@click.command()
@click.argument("register", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "map_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML column map; without it the columns reference, received, category, text, service_area are used.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("audit"),
    show_default=True,
    help="Folder for audit.csv (the flagged contacts) and audit.html.",
)
@click.option(
    "--model", "model_dir", type=click.Path(path_type=Path), default=None, help="Model folder (default models/default)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the flagged references with their rule and evidence as JSON.")
@friendly_errors
def audit(register: Path, map_file: Path | None, out_dir: Path, model_dir: Path | None, as_json: bool) -> None:
    """Audit a landlord's register (CSV or XLSX) for ghost stages.

    Classifies each contact's text and reports those recorded outside the complaints process
    ("service request", "informal resolution", "stage 0", "MP enquiry", ...) whose text reads as
    a complaint, with counts by recorded category and service area, and the list with evidence.
    Rows with no date or no text are listed, not dropped.

    Example:

        triage audit register-2025.xlsx --map pipelines/register-map.toml --out audit/
    """
    from triage.classify.service import load_model
    from triage.route.audit import audit as run_audit
    from triage.route.audit import load_map, write_csv, write_html

    if not register.exists():
        raise TriageError(f"{register}: no such register file.")
    model, _ = load_model(model_dir)
    result = run_audit(register, load_map(map_file), model)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(result, out_dir / "audit.csv")
    write_html(result, out_dir / "audit.html")
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    click.echo(
        f"{len(result.entries)} contacts; {len(result.flagged)} flagged as possible ghost stages; "
        f"{len(result.bad_rows)} rows could not be read."
    )
    for category, c in result.counts("category").items():
        click.echo(f"  {category:24} {c['contacts']:>5} contacts  {c['flagged']:>4} flagged")
    for bad in result.bad_rows:
        click.echo(f"  row {bad['row']} ({bad['reference'] or 'no reference'}): {bad['reason']}")
    click.echo(f"Written: {out_dir / 'audit.csv'}, {out_dir / 'audit.html'}")


@click.command()
@store_option
@click.option("--area", default=None, help="Service-area queue, e.g. 'Repairs and Maintenance'.")
@click.option("--kind", type=click.Choice(["complaint", "service_request", "mp_enquiry", "compliment", "other"]), default=None)
@click.option("--flag", default=None, help="A flag type (ghost_stage, hazard, vulnerability, survey_dissatisfaction) or rule.")
@click.option("--due-within", type=int, default=None, help="Due within N days from today (overdue included).")
@click.option("--overdue", is_flag=True, help="Only items whose due date has passed.")
@today_option
@nation_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def queue(
    store: str,
    area: str | None,
    kind: str | None,
    flag: str | None,
    due_within: int | None,
    overdue: bool,
    today: Any,
    nation: str,
    as_json: bool,
) -> None:
    """List a work queue, soonest due first: what to do, by when, and why it was flagged.
    A case's overdue commitments (promised repairs, visits, payments) are shown with it.

    Example:

        triage queue --store triage.db --area "Repairs and Maintenance" --flag hazard --due-within 5
    """
    from datetime import date, timedelta

    from triage.learning.commitments import overdue_by_case
    from triage.message import UK
    from triage.store.db import Store

    day = today.date() if today else date.today()
    due_before = day - timedelta(days=1) if overdue else (day + timedelta(days=due_within) if due_within is not None else None)
    with Store(store) as db:
        rows = db.queue(area, kind, due_before)
        late = overdue_by_case(db, day, nation)
    if flag:
        rows = [r for r in rows if any(flag in (f["type"], f["rule"]) for f in r["flags"] + r["case_flags"])]
    for r in rows:
        flags = ",".join(sorted({f["rule"] for f in r["flags"] + r["case_flags"]}))
        if as_json:
            click.echo(
                json.dumps(
                    {
                        **r,
                        "received_at": r["received_at"].isoformat() if r["received_at"] else None,
                        "due_date": r["due_date"].isoformat() if r["due_date"] else None,
                        "overdue_commitments": [
                            {"id": c.id, "what": c.what, "due": c.due.isoformat()} for c in late.get(r["case_pk"], [])
                        ],
                    },
                    default=str,
                )
            )
            continue
        due = f"{r['due_date']:%d %b}" + (" OVERDUE" if r["due_date"] < day else "") if r["due_date"] else "-"
        received = f"{r['received_at'].astimezone(UK):%d %b %H:%M}" if r["received_at"] else "-"
        on_case = f"case #{r['case_pk']} ({r['case_stage']})" if r["case_pk"] else "no case"
        click.echo(f"#{r['id']:<6} due {due:<14} {r['kind']:<16} {r['queue']:<24} rcvd {received}  {r['subject'][:50]}")
        click.echo(f"        {on_case}")
        for c in late.get(r["case_pk"], []):
            click.echo(f"        OVERDUE COMMITMENT #{c.id}: {c.what[:60]} (due {c.due:%d %b})")
        if r["due_what"] or flags:
            click.echo(f"        {r['due_what']}" + (f"  [{flags}]" if flags else ""))
    if not rows and not as_json:
        click.echo("Nothing in this queue.")
