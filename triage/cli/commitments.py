"""``triage commitment``: what complaint responses promised, tracked to done."""

from __future__ import annotations

import json
from typing import Any

import click

from triage.cli.common import (
    by_option,
    commitment_lines,
    date_or_today,
    date_type,
    friendly_errors,
    nation_option,
    store_option,
    today_option,
)
from triage.labels import COMMITMENT_KINDS, COMMITMENT_STATUSES


@click.group()
def commitment() -> None:
    """Commitments a complaint response made: what, owner, due date, tracked to done.

    Example:

        triage commitment list --overdue
    """


@commitment.command("add")
@click.option("--case", "case_pk", type=int, required=True, help="The case id.")
@click.option("--what", required=True, help="What was promised.")
@click.option("--kind", type=click.Choice(COMMITMENT_KINDS), required=True)
@click.option("--owner", default="", help="Who will do it (a person or team).")
@click.option("--due", type=date_type, default=None, help="Due date.")
@click.option("--within", type=int, default=None, help="Or: due this many working days after the response.")
@click.option(
    "--made-on", type=date_type, default=None, help="Date of the response that promised it (default: the case's latest response)."
)
@nation_option
@store_option
@by_option
@friendly_errors
def commitment_add(
    case_pk: int,
    what: str,
    kind: str,
    owner: str,
    due: Any,
    within: int | None,
    made_on: Any,
    nation: str,
    store: str,
    by: str,
) -> None:
    """Record a commitment made in a complaint response, with its owner and due date.

    Example:

        triage commitment add --case 12 --what "Replace the back door" --kind repair --owner "Repairs and Maintenance" --within 10 --by "J Okafor"
    """
    from triage.learning.commitments import add_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = add_commitment(
            db,
            case_pk,
            what,
            kind,
            owner=owner,
            due=due.date() if due else None,
            within=within,
            made_on=made_on.date() if made_on else None,
            by=by,
            nation=nation,
        )
    tracked = f"made in the response of {c.made_on:%d %b %Y}" if c.made_on else "not tracked until a response is recorded"
    click.echo(f"Recorded commitment {c.id} on case {c.case_pk}: {c.kind}, due {c.due:%a %d %b %Y}; {tracked}.")


@commitment.command("list")
@store_option
@click.option("--case", "case_pk", type=int, default=None, help="Only this case.")
@click.option("--status", type=click.Choice(COMMITMENT_STATUSES), default=None)
@click.option("--overdue", is_flag=True, help="Only open commitments past their due date.")
@click.option("--no-evidence", is_flag=True, help="Only commitments closed without evidence of completion.")
@nation_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@friendly_errors
def commitment_list(
    store: str, case_pk: int | None, status: str | None, overdue: bool, no_evidence: bool, nation: str, today: Any, as_json: bool
) -> None:
    """List commitments, soonest due first, with what is overdue or closed without evidence.

    Example:

        triage commitment list --overdue --nation wales
    """
    from triage.learning.commitments import list_commitments
    from triage.store.db import Store

    day = date_or_today(today)
    with Store(store) as db:
        found = list_commitments(db, case_pk=case_pk, status=status)
    if overdue:
        found = [c for c in found if c.overdue(day, nation)]
    if no_evidence:
        found = [c for c in found if c.closed_without_evidence]
    for c in found:
        if as_json:
            click.echo(json.dumps(c.as_dict(day, nation)))
            continue
        for line in commitment_lines(c, day, nation):
            click.echo(line)
    if not found and not as_json:
        click.echo("No commitments match.")


@commitment.command("done")
@click.argument("commitment_id", type=int)
@click.option("--evidence", default="", help="How it is known to be done: job number, report, payment reference, call log.")
@click.option(
    "--no-evidence", is_flag=True, help="Close it with no evidence; it is flagged as closed without evidence of completion."
)
@click.option("--on", "on", type=date_type, default=None, help="Date done (default today).")
@store_option
@by_option
@friendly_errors
def commitment_done(commitment_id: int, evidence: str, no_evidence: bool, on: Any, store: str, by: str) -> None:
    """Mark a commitment done, with evidence of completion (or --no-evidence, which is flagged).

    Example:

        triage commitment done 7 --evidence "Job 44812 completed 14 Jan, photos on file" --by "J Okafor"
    """
    from triage.learning.commitments import close_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = close_commitment(db, commitment_id, date_or_today(on), evidence=evidence, no_evidence=no_evidence, by=by)
    click.echo(
        f"Commitment {c.id} done on {c.done_on:%d %b %Y}"
        + (f": {c.evidence}" if c.evidence else "; flagged: closed without evidence of completion.")
    )


@commitment.command("cancel")
@click.argument("commitment_id", type=int)
@click.option("--reason", required=True, help="Why it no longer applies.")
@store_option
@by_option
@friendly_errors
def commitment_cancel(commitment_id: int, reason: str, store: str, by: str) -> None:
    """Cancel a commitment that no longer applies, with the reason.

    Example:

        triage commitment cancel 7 --reason "Resident moved out; the new tenancy has its own repair order" --by "J Okafor"
    """
    from triage.learning.commitments import cancel_commitment
    from triage.store.db import Store

    with Store(store) as db:
        c = cancel_commitment(db, commitment_id, reason, by=by)
    click.echo(f"Commitment {c.id} cancelled: {c.cancelled_reason}")
