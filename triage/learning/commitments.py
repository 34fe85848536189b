"""Commitments: what a complaint response promised (a repair, an inspection, a payment, a call
back), with its owner and due date, tracked to done (Code 6.6, 6.17, 7.3).

A commitment is tracked from the response that made it: ``made_on`` is the date of the case's
``responded`` event (the latest one when it is recorded, or the first one recorded afterwards).
Before any response is recorded it is held but not tracked: it is never overdue and the report
does not count it.

The two rules, in working days of the landlord's nation (Monday to Friday less its bank
holidays, as for the Code's deadlines):

- **Overdue**: still open on a working day after its due date. A due date on a weekend or bank
  holiday moves to the next working day (nothing can be done on a closed day), so a commitment
  due on Good Friday is not overdue that day, nor on Easter Monday, nor on the Tuesday; it is on
  the Wednesday. "Overdue by N" counts working days.
- **Closed without evidence of completion**: marked done with no evidence (``--no-evidence``).
  Evidence is text: a job number, an inspection report, a payment reference, a call log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from triage.errors import InputError
from triage.labels import COMMITMENT_KINDS, COMMITMENT_STATUSES
from triage.learning.records import connect
from triage.route.deadlines import add_working_days, is_working_day, working_days_between
from triage.store.schema import case_events, cases, commitments

CLOSED_WITHOUT_EVIDENCE = "closed without evidence of completion"


def effective_due(due: date, nation: str = "england") -> date:
    """The due date, moved to the next working day when it falls on a weekend or bank holiday."""
    day = due
    while not is_working_day(day, nation):
        day += timedelta(days=1)
    return day


def working_days_late(due: date, day: date, nation: str = "england") -> int:
    """Working days after the (effective) due date up to and including ``day``; 0 when on time."""
    return working_days_between(effective_due(due, nation), day, nation)


@dataclass
class Commitment:
    id: int
    case_pk: int
    what: str
    kind: str
    owner: str
    due: date
    made_on: date | None  # None: no response recorded yet, so not tracked
    status: str
    done_on: date | None
    evidence: str
    cancelled_reason: str
    closed_by: str
    closed_at: datetime | None
    created_by: str

    @property
    def tracked(self) -> bool:
        return self.made_on is not None

    @property
    def closed_without_evidence(self) -> bool:
        return self.status == "done" and not self.evidence.strip()

    def late_by(self, today: date, nation: str = "england") -> int:
        """Working days past due: as at ``today`` while open, when it was done once done."""
        if self.status == "cancelled" or not self.tracked:
            return 0
        day = self.done_on if self.status == "done" and self.done_on else today
        return working_days_late(self.due, day, nation)

    def overdue(self, today: date, nation: str = "england") -> bool:
        return self.status == "open" and self.tracked and self.late_by(today, nation) > 0

    def flags(self, today: date, nation: str = "england") -> list[str]:
        found = []
        if self.overdue(today, nation):
            n = self.late_by(today, nation)
            found.append(f"overdue by {n} working day{'s' if n != 1 else ''} (due {self.due:%a %d %b %Y})")
        if self.closed_without_evidence:
            found.append(CLOSED_WITHOUT_EVIDENCE)
        return found

    def as_dict(self, today: date, nation: str = "england") -> dict[str, Any]:
        data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}
        data["case"] = data.pop("case_pk")
        data["overdue"] = self.overdue(today, nation)
        data["flags"] = self.flags(today, nation)
        return data


# -- writing -------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


def live_case(conn: Connection, case_pk: int) -> int:
    """The case itself, or the case it was merged into; InputError when there is no such case."""
    from triage.cases.records import live_case as follow_merges

    if conn.scalar(select(cases.c.id).where(cases.c.id == case_pk)) is None:
        raise InputError(f"there is no case {case_pk}; `triage case list` shows them.")
    return follow_merges(conn, case_pk)


def _latest_response(conn: Connection, case_pk: int) -> date | None:
    return conn.scalar(
        select(case_events.c.on)
        .where(case_events.c.case_pk == case_pk, case_events.c.event == "responded")
        .order_by(case_events.c.on.desc())
        .limit(1)
    )


def add_commitment(
    conn_or_store: Any,
    case_pk: int,
    what: str,
    kind: str,
    *,
    owner: str = "",
    due: date | None = None,
    within: int | None = None,
    made_on: date | None = None,
    by: str,
    nation: str = "england",
) -> Commitment:
    """Record what a response promised. The due date is a date (``due``) or a number of working
    days after the response (``within``). ``made_on`` defaults to the case's latest response."""
    if kind not in COMMITMENT_KINDS:
        raise InputError(f"commitment kind {kind!r} is not one of {', '.join(COMMITMENT_KINDS)}.")
    if not what.strip():
        raise InputError("say what was promised (--what), e.g. 'Replace the back door'.")
    if (due is None) == (within is None):
        raise InputError(
            "give the due date as a date (--due 2027-01-08) or as working days after the response (--within 10), not both."
        )
    with connect(conn_or_store) as conn:
        case_pk = live_case(conn, case_pk)
        made_on = made_on or _latest_response(conn, case_pk)
        if within is not None:
            if made_on is None:
                raise InputError(
                    f"case {case_pk} has no response recorded to count {within} working days from; "
                    "record the response first, or give --made-on or a --due date."
                )
            due = add_working_days(made_on, within, nation)
        assert due is not None
        if made_on and due < made_on:
            raise InputError(f"the due date {due} is before the response that promised it ({made_on}).")
        pk = conn.execute(
            insert(commitments).values(
                case_pk=case_pk,
                what=what.strip(),
                kind=kind,
                owner=owner.strip(),
                due=due,
                made_on=made_on,
                status="open",
                created_at=_now(),
                created_by=by,
            )
        ).inserted_primary_key[0]
        return get_commitment(conn, pk)


def close_commitment(
    conn_or_store: Any, commitment_id: int, on: date, *, evidence: str = "", no_evidence: bool = False, by: str
) -> Commitment:
    """Mark a commitment done. Evidence of completion is required, unless ``no_evidence`` says
    there is none: the commitment is then flagged as closed without evidence."""
    evidence = evidence.strip()
    if not evidence and not no_evidence:
        raise InputError(
            "say how it is known to be done (--evidence 'job 44812 completed, photo on file'), "
            "or close it with --no-evidence, which flags it as closed without evidence of completion."
        )
    if evidence and no_evidence:
        raise InputError("give --evidence or --no-evidence, not both.")
    with connect(conn_or_store) as conn:
        c = _open(conn, commitment_id)
        if c.made_on and on < c.made_on:
            raise InputError(f"commitment {c.id} was made on {c.made_on}; it cannot be done on {on}, before that.")
        conn.execute(
            update(commitments)
            .where(commitments.c.id == c.id)
            .values(status="done", done_on=on, evidence=evidence, closed_at=_now(), closed_by=by)
        )
        return get_commitment(conn, c.id)


def cancel_commitment(conn_or_store: Any, commitment_id: int, reason: str, *, by: str) -> Commitment:
    """Withdraw a commitment that no longer applies (the resident moved, the work was superseded)."""
    if not reason.strip():
        raise InputError("say why the commitment is cancelled (--reason).")
    with connect(conn_or_store) as conn:
        c = _open(conn, commitment_id)
        conn.execute(
            update(commitments)
            .where(commitments.c.id == c.id)
            .values(status="cancelled", cancelled_reason=reason.strip(), closed_at=_now(), closed_by=by)
        )
        return get_commitment(conn, c.id)


def _open(conn: Connection, commitment_id: int) -> Commitment:
    c = get_commitment(conn, commitment_id)
    if c.status != "open":
        raise InputError(f"commitment {c.id} is already {c.status}.")
    return c


# -- reading -------------------------------------------------------------------------------
def _commitments(conn: Connection, query: Any) -> list[Commitment]:
    rows = [dict(r) for r in conn.execute(query.order_by(commitments.c.due, commitments.c.id)).mappings()]
    fields = Commitment.__dataclass_fields__
    found = [Commitment(**{k: r[k] for k in fields}) for r in rows]
    # Not tracked when recorded: tracked from the first response recorded since.
    for c, r in zip(found, rows, strict=True):
        if c.made_on is None:
            c.made_on = conn.scalar(
                select(case_events.c.on)
                .where(
                    case_events.c.case_pk == c.case_pk,
                    case_events.c.event == "responded",
                    case_events.c.on >= r["created_at"].date(),
                )
                .order_by(case_events.c.on)
                .limit(1)
            )
    return found


def get_commitment(conn_or_store: Any, commitment_id: int) -> Commitment:
    with connect(conn_or_store) as conn:
        found = _commitments(conn, select(commitments).where(commitments.c.id == commitment_id))
    if not found:
        raise InputError(f"there is no commitment {commitment_id}; `triage commitment list` shows them.")
    return found[0]


def list_commitments(
    conn_or_store: Any,
    *,
    case_pk: int | None = None,
    status: str | None = None,
    made_from: date | None = None,
    made_to: date | None = None,
) -> list[Commitment]:
    """Commitments, soonest due first; ``made_from``/``made_to`` keep those tracked from a
    response in that period."""
    if status and status not in COMMITMENT_STATUSES:
        raise InputError(f"status {status!r} is not one of {', '.join(COMMITMENT_STATUSES)}.")
    query = select(commitments)
    if case_pk is not None:
        query = query.where(commitments.c.case_pk == case_pk)
    if status:
        query = query.where(commitments.c.status == status)
    with connect(conn_or_store) as conn:
        found = _commitments(conn, query)
    if made_from or made_to:
        found = [
            c
            for c in found
            if c.made_on and (made_from is None or c.made_on >= made_from) and (made_to is None or c.made_on <= made_to)
        ]
    return found


def overdue_for_case(conn_or_store: Any, case_pk: int, today: date, nation: str = "england") -> list[Commitment]:
    """The case's open commitments that are overdue on ``today``: what the queue, ``triage case
    show`` and the review app show wherever the case is shown."""
    return [c for c in list_commitments(conn_or_store, case_pk=case_pk, status="open") if c.overdue(today, nation)]


def overdue_by_case(conn_or_store: Any, today: date, nation: str = "england") -> dict[int, list[Commitment]]:
    """Every case with an overdue commitment on ``today``, in one read: for a list of cases
    (the queue, ``triage case list``) rather than one case at a time."""
    found: dict[int, list[Commitment]] = {}
    for c in list_commitments(conn_or_store, status="open"):
        if c.overdue(today, nation):
            found.setdefault(c.case_pk, []).append(c)
    return found
