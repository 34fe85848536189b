"""``triage case``: cases, their events, splits and merges."""

from __future__ import annotations

import json
from typing import Any

import click

from triage.cli.common import by_option, commitment_lines, date_or_today, date_type, friendly_errors, nation_option, store_option
from triage.errors import TriageError


@click.group()
def case() -> None:
    """Cases: the messages about one issue, its stage and its history of events.

    Example:

        triage case list --store triage.db --stage service_request
    """


@case.command("list")
@store_option
@click.option("--stage", type=click.Choice(["none", "service_request", "stage_1", "stage_2", "closed"]), default=None)
@click.option("--resident", default=None, help="Sender address (or respondent:REF for survey answers).")
@click.option("--overdue", is_flag=True, help="Only cases whose next Code deadline has passed.")
@click.option("--flagged", is_flag=True, help="Only cases with a recorded breach (late, or an extension beyond the Code).")
@click.option("--today", type=date_type, default=None, help="Treat this date as today.")
@nation_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def case_list(
    store: str,
    stage: str | None,
    resident: str | None,
    overdue: bool,
    flagged: bool,
    today: Any,
    nation: str,
    as_json: bool,
) -> None:
    """List cases, most recent contact first, with their stage, next deadline and any overdue
    commitments.

    Example:

        triage case list --store triage.db --overdue
    """
    from datetime import date

    from triage.cases import list_cases
    from triage.learning.commitments import overdue_by_case
    from triage.store.db import Store

    day = today.date() if today else date.today()
    with Store(store) as db:
        rows = list_cases(db, stage, resident, day if overdue else None, flagged)
        late = overdue_by_case(db, day, nation)
    for r in rows:
        if as_json:
            commitments = [{"id": c.id, "what": c.what, "due": c.due.isoformat()} for c in late.get(r["id"], [])]
            click.echo(json.dumps({**r, "overdue_commitments": commitments}, default=str))
            continue
        due = f"due {r['due_date']:%d %b %Y}" + (" OVERDUE" if r["due_date"] < day else "") if r["due_date"] else "nothing due"
        click.echo(f"case #{r['id']:<5} {r['stage']:<16} {r['messages']:>3} msg  {due:<24} {r['title'][:60]}")
        if r["due_what"]:
            click.echo(f"             {r['due_what']}")
        for c in late.get(r["id"], []):
            click.echo(f"             OVERDUE COMMITMENT #{c.id}: {c.what[:60]} (due {c.due:%d %b})")
    if not rows and not as_json:
        click.echo("No cases match.")


@case.command("show")
@click.argument("case_id", type=int)
@store_option
@nation_option
@click.option("--today", type=date_type, default=None, help="Treat this date as today (for breaches).")
@click.option("--json", "as_json", is_flag=True, help="Print the case as one JSON object.")
@friendly_errors
def case_show(case_id: int, store: str, nation: str, today: Any, as_json: bool) -> None:
    """Show a case: its messages and why each is linked, its events, next deadline and flags,
    the commitments its responses made (overdue ones flagged) and its learning outcomes.

    Example:

        triage case show 12 --store triage.db
    """
    from dataclasses import asdict

    from triage.cases import get_case
    from triage.message import UK
    from triage.store.db import Store

    with Store(store) as db:
        data = get_case(db, case_id, today.date() if today else None, nation)
        promised, learnt = _case_learning(db, case_id) if data is not None else ([], [])
    if data is None:
        raise TriageError(f"there is no case #{case_id}. List cases with: triage case list")
    day = date_or_today(today)
    if as_json:
        extra = {"commitments": [c.as_dict(day, nation) for c in promised], "learning_outcomes": [o.as_dict() for o in learnt]}
        click.echo(json.dumps({**data, "events": [asdict(e) for e in data["events"]], **extra}, default=str))
        return
    merged = f" (merged into case #{data['merged_into']})" if data["merged_into"] else ""
    click.echo(f"case #{case_id}{merged}: {data['title']}")
    click.echo(f"  stage {data['stage']}; resident {data['resident'] or '-'}; themes {', '.join(data['themes']) or '-'}")
    if data["references"]:
        click.echo(f"  references: {', '.join(data['references'])}")
    due = f"{data['due_date']:%a %d %b %Y}: {data['due_what']}" if data["due_date"] else "nothing"
    click.echo(f"  next due: {due}")
    click.echo("Messages:")
    for m in data["messages"]:
        when = f"{m['received_at'].astimezone(UK):%d %b %Y %H:%M}" if m["received_at"] else "undated"
        click.echo(f"  #{m['id']:<6} {when}  {m['sender_addr']:<32} {m['subject'][:50]}")
        click.echo(f"          linked by {m['rule']}: {m['reason']}")
    click.echo("Events:")
    for e in data["events"]:
        extra = f" to {e.extended_to}" if e.extended_to else ""
        extra += f", outcome {e.outcome}" if e.outcome else ""
        extra += f": {e.reason}" if e.reason else ""
        click.echo(f"  {e.on}  {e.event:<17} {e.stage:<16} by {e.recorded_by}{extra}")
    if not data["events"]:
        click.echo("  none recorded")
    for f in data["flags"]:
        click.echo(f"Flag {f['rule']} (Code {f['code']}): {f['reason']}")
        for line in f["evidence"]:
            click.echo(f"    {line}")
    _echo_case_learning(promised, learnt, day, nation)


@case.command("event")
@click.argument("case_id", type=int)
@click.argument(
    "event", type=click.Choice(["received", "acknowledged", "responded", "escalated", "extension_agreed", "closed", "refused"])
)
@click.option("--on", "on", type=date_type, required=True, help="The date it happened.")
@click.option(
    "--stage",
    type=click.Choice(["service_request", "stage_1", "stage_2"]),
    default=None,
    help="The stage it concerns (default: the case's current formal stage; 'escalated' is stage 2).",
)
@click.option("--extended-to", type=date_type, default=None, help="extension_agreed: the new respond-by date.")
@click.option("--reason", default="", help="Why (required for an extension), or a note.")
@click.option("--outcome", type=click.Choice(["upheld", "partly_upheld", "not_upheld"]), default=None, help="On 'responded'.")
@by_option
@store_option
@nation_option
@friendly_errors
def case_event(
    case_id: int,
    event: str,
    on: Any,
    stage: str | None,
    extended_to: Any,
    reason: str,
    outcome: str | None,
    by: str,
    store: str,
    nation: str,
) -> None:
    """Record what happened on a case: received (at a stage), acknowledged, responded,
    escalated, extension_agreed (with --extended-to and --reason), closed, refused (with the
    Code's exclusion as --reason: over_12_months, legal_proceedings, previously_considered, or
    'other: <why>'; counted in the annual report).

    The case's stage and next deadline follow from its events. Logging a service request as
    a stage 1 complaint is 'received --stage stage_1'.

    Example:

        triage case event 12 acknowledged --on 2026-11-24 --by "J Okafor" --store triage.db
        triage case event 14 refused --on 2026-11-25 --reason legal_proceedings --by "J Okafor"
    """
    from triage.cases import Event, get_case, record_event
    from triage.store.db import Store

    with Store(store) as db:
        current = get_case(db, case_id, nation=nation)
        if current is None:
            raise TriageError(f"there is no case #{case_id}. List cases with: triage case list")
        if stage is None:
            stage = "stage_2" if event == "escalated" or current["stage"] == "stage_2" else "stage_1"
        record_event(
            db,
            case_id,
            Event(
                event,
                stage,
                on.date(),
                extended_to.date() if extended_to else None,
                reason,
                outcome,
                recorded_by=by,
            ),
            nation,
        )
        after = get_case(db, case_id, nation=nation)
    assert after is not None
    due = f"next due {after['due_date']}: {after['due_what']}" if after["due_date"] else "nothing due"
    click.echo(f"case #{case_id}: {event} recorded; stage {after['stage']}; {due}.")
    for f in after["flags"]:
        click.echo(f"Flag {f['rule']} (Code {f['code']}): {'; '.join(f['evidence'])}")


@case.command("split")
@click.argument("case_id", type=int)
@click.argument("message_ids", type=int, nargs=-1, required=True)
@click.option("--by", "by", required=True, help="Who is splitting it.")
@store_option
@nation_option
@friendly_errors
def case_split(case_id: int, message_ids: tuple[int, ...], by: str, store: str, nation: str) -> None:
    """Move messages that are about another issue from a case to a new case.

    Example:

        triage case split 12 40 41 --by "J Okafor" --store triage.db
    """
    from triage.cases import split_case
    from triage.store.db import Store

    with Store(store) as db:
        new = split_case(db, case_id, list(message_ids), by, nation)
    click.echo(f"{len(message_ids)} message(s) moved from case #{case_id} to the new case #{new}.")


@case.command("merge")
@click.argument("into", type=int)
@click.argument("other", type=int)
@click.option("--by", "by", required=True, help="Who is merging them.")
@store_option
@nation_option
@friendly_errors
def case_merge(into: int, other: int, by: str, store: str, nation: str) -> None:
    """Merge case OTHER into case INTO: its messages, references and events move across.

    Example:

        triage case merge 12 15 --by "J Okafor" --store triage.db
    """
    from triage.cases import merge_cases
    from triage.store.db import Store

    with Store(store) as db:
        merge_cases(db, into, other, by, nation)
    click.echo(f"case #{other} merged into case #{into}.")


def _case_learning(db: Any, case_id: int) -> tuple[list[Any], list[Any]]:
    """A case's commitments and learning outcomes, for ``triage case show``."""
    from triage.learning import list_commitments, list_outcomes

    return list_commitments(db, case_pk=case_id), list_outcomes(db, case_pk=case_id)


def _echo_case_learning(promised: list[Any], learnt: list[Any], day: Any, nation: str) -> None:
    if promised:
        click.echo("Commitments:")
        for c in promised:
            for line in commitment_lines(c, day, nation):
                click.echo(f"  {line}")
    if learnt:
        click.echo("Learning outcomes:")
        for o in learnt:
            click.echo(f"  {o.reference} {o.risk} {o.status}: {o.description[:80]}")
