"""Retention (UK GDPR storage limitation): purge what residents wrote once a case is long closed.

``purge(store, before)`` takes the cases closed before ``before`` (their last ``closed`` event;
a case that is not closed now is never touched, whatever its dates) and the messages on no case
received before it, and removes what identifies or describes a person:

- messages: subject, the three text parts, sender name and address, recipients, the raw bytes
  and the respondent reference; their attachments are deleted; a quarantined copy's raw bytes;
- classifications: the evidence phrases (in ``evidence`` and in each flag);
- reviews: the staff note; cases: the resident and the title; case events: the free-text
  reason; commitments: what was promised, the evidence and the reason for cancelling
  (``[purged]`` where there was text, so "closed without evidence" still counts the same).

It keeps the rows, with every date, label, theme, queue, flag rule, stage and outcome, so the
reports count exactly what they counted before (they read those columns, never the text, except
the anonymised excerpts, which simply stop quoting purged messages). Keeping rows rather than
moving counts into summary tables means no report query changes and no second source of truth;
and a purged message keeps its SHA-256 and Message-ID, so the same mail read again from an old
mailbox export is still recognised as a duplicate instead of being stored afresh.

Each purge is recorded in ``purges`` (when, cut-off, by whom, counts, the case ids), and the
purged rows carry ``purged_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Text, cast, exists, func, insert, select, update

from triage.errors import InputError
from triage.store.db import Store
from triage.store.schema import (
    attachments,
    case_events,
    case_messages,
    cases,
    classifications,
    commitments,
    messages,
    purges,
    quarantine,
    reviews,
)

PURGED = "[purged]"


@dataclass
class PurgeResult:
    before: date
    dry_run: bool
    case_ids: list[int] = field(default_factory=list)
    messages: int = 0
    attachments: int = 0
    bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "before": self.before.isoformat(),
            "dry_run": self.dry_run,
            "cases": len(self.case_ids),
            "case_ids": self.case_ids,
            "messages": self.messages,
            "attachments": self.attachments,
            "bytes": self.bytes,
        }


def _closed_cases(before: date) -> Any:
    """The ids of cases closed before ``before`` and not yet purged, as a query (used as a
    subquery too, so no list of ids becomes thousands of bound parameters)."""
    closed_on = (
        select(case_events.c.case_pk, func.max(case_events.c.on).label("closed_on"))
        .where(case_events.c.event == "closed")
        .group_by(case_events.c.case_pk)
        .subquery()
    )
    return (
        select(cases.c.id)
        .join(closed_on, closed_on.c.case_pk == cases.c.id)
        .where(
            cases.c.stage == "closed",
            cases.c.merged_into.is_(None),
            cases.c.purged_at.is_(None),
            closed_on.c.closed_on < before,
        )
    )


def _message_ids(conn: Any, case_ids: list[int], before: date) -> list[int]:
    """Messages on the purged cases, and messages on no case received before the cut-off (unless
    an event of a case being kept points at one); read in plain indexed queries, joined here."""
    found: set[int] = set()
    for chunk in _chunks(case_ids):
        found.update(conn.scalars(select(case_messages.c.message_pk).where(case_messages.c.case_pk.in_(chunk))))
    cutoff = datetime.combine(before, time(), tzinfo=UTC)
    on_no_case = select(messages.c.id).where(
        messages.c.received_at < cutoff, ~exists().where(case_messages.c.message_pk == messages.c.id)
    )
    purged_cases = set(case_ids)
    kept_by_events = {
        m
        for m, c in conn.execute(
            select(case_events.c.message_pk, case_events.c.case_pk).where(case_events.c.message_pk.is_not(None))
        )
        if c not in purged_cases
    }
    found.update(m for m in conn.scalars(on_no_case) if m not in kept_by_events)
    done = set()
    for chunk in _chunks(sorted(found)):
        done.update(conn.scalars(select(messages.c.id).where(messages.c.id.in_(chunk), messages.c.purged_at.is_not(None))))
    return sorted(found - done)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def purge(store: Store, before: date, by: str, dry_run: bool = False, today: date | None = None) -> PurgeResult:
    """Purge closed cases (closed before ``before``) and messages on no case received before it."""
    if before > (today or date.today()):
        raise InputError(f"--before {before.isoformat()} is in the future: give a date in the past (the retention cut-off).")
    result = PurgeResult(before, dry_run)
    now = datetime.now(UTC)
    with store.transaction() as conn:
        closed = _closed_cases(before)
        result.case_ids = sorted(conn.scalars(closed))
        message_ids = _message_ids(conn, result.case_ids, before)
        result.messages = len(message_ids)
        for chunk in _chunks(message_ids):
            result.bytes += conn.scalar(select(func.coalesce(func.sum(messages.c.size), 0)).where(messages.c.id.in_(chunk)))
            found = conn.execute(
                select(func.count(), func.coalesce(func.sum(attachments.c.size), 0)).where(attachments.c.message_pk.in_(chunk))
            ).one()
            result.attachments += found[0]
            result.bytes += found[1]
        if dry_run:
            return result
        merged = list(conn.scalars(select(cases.c.id).where(cases.c.merged_into.in_(closed))))
        for chunk in _chunks(message_ids):
            _purge_messages(conn, chunk, now)
        for chunk in _chunks(result.case_ids + merged):
            _purge_cases(conn, chunk, now)
        conn.execute(
            insert(purges).values(
                at=now,
                before=before,
                by=by,
                cases=len(result.case_ids),
                messages=result.messages,
                attachments=result.attachments,
                bytes=result.bytes,
                case_ids=result.case_ids,
            )
        )
    return result


def _purge_messages(conn: Any, ids: list[int], now: datetime) -> None:
    conn.execute(
        update(messages)
        .where(messages.c.id.in_(ids))
        .values(
            subject="",
            body_new="",
            body_quoted="",
            body_signature="",
            sender_name="",
            sender_addr="",
            recipients=[],
            raw=b"",
            respondent_ref="",
            purged_at=now,
        )
    )
    conn.execute(attachments.delete().where(attachments.c.message_pk.in_(ids)))
    conn.execute(update(quarantine).where(quarantine.c.message_pk.in_(ids)).values(raw=b""))
    conn.execute(update(reviews).where(reviews.c.message_pk.in_(ids)).values(note=""))
    conn.execute(update(classifications).where(classifications.c.message_pk.in_(ids)).values(evidence=[]))
    flagged = classifications.c.message_pk.in_(ids), cast(classifications.c.flags, Text) != "[]"
    rows = conn.execute(select(classifications.c.id, classifications.c.flags).where(*flagged))
    for pk, flags in rows.all():
        kept = [{**f, "evidence": []} if isinstance(f, dict) else f for f in flags or []]
        conn.execute(update(classifications).where(classifications.c.id == pk).values(flags=kept))


def _purge_cases(conn: Any, ids: list[int], now: datetime) -> None:
    conn.execute(update(cases).where(cases.c.id.in_(ids)).values(resident="", title="", purged_at=now))
    conn.execute(update(case_events).where(case_events.c.case_pk.in_(ids)).values(reason=""))
    c = commitments.c
    conn.execute(update(commitments).where(c.case_pk.in_(ids)).values(what=PURGED))
    conn.execute(update(commitments).where(c.case_pk.in_(ids), c.evidence != "").values(evidence=PURGED))
    conn.execute(update(commitments).where(c.case_pk.in_(ids), c.cancelled_reason != "").values(cancelled_reason=PURGED))


def purges_done(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(purges).order_by(purges.c.id)).mappings()]
