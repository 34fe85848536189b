"""Review decisions: what the model said, what a person decided, by whom and when.

Every decision is a new row; nothing is ever updated or deleted. Rows for one message are
numbered 1, 2, ... (``version``). A person decides on the version they saw: if someone else
decided in the meantime, the write is refused (the unique (message_pk, version) constraint
makes this safe between processes too) and the caller is handed the other decision to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from triage.errors import ReviewError
from triage.labels import KINDS, THEMES
from triage.review.auth import User
from triage.store.db import Store, as_utc, latest_classification
from triage.store.schema import classifications, messages, reviews

ACTIONS = ("confirmed", "corrected")
BULK_THRESHOLD = 0.90  # the training config's auto_accept: kind confidence for the bulk view


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str
    dissatisfied: bool
    themes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # flag rules kept
    note: str = ""

    def check(self) -> None:
        if self.kind not in KINDS:
            raise ReviewError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}.")
        if unknown := set(self.themes) - set(THEMES):
            raise ReviewError(f"unknown theme(s) {', '.join(sorted(unknown))}; themes are listed in triage/labels.py.")
        if len(self.note) > 4000:
            raise ReviewError("the note is longer than 4,000 characters. Shorten it.")


@dataclass(frozen=True, slots=True)
class Outcome:
    """``saved`` is the new row; on a conflict it is None and ``current`` is the other decision."""

    saved: dict[str, Any] | None
    current: dict[str, Any] | None

    @property
    def conflict(self) -> bool:
        return self.saved is None


def model_decision(classification: dict[str, Any]) -> Decision:
    return Decision(
        classification["kind"],
        bool(classification["dissatisfied"]),
        sorted(classification["themes"]),
        sorted({f["rule"] for f in classification["flags"]}),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _unreviewed() -> Any:
    return ~exists().where(reviews.c.message_pk == classifications.c.message_pk)


def latest_review(store: Store, message_pk: int, conn: Any = None) -> dict[str, Any] | None:
    query = select(reviews).where(reviews.c.message_pk == message_pk).order_by(reviews.c.version.desc()).limit(1)
    if conn is not None:
        row = conn.execute(query).mappings().first()
    else:
        with store.engine.connect() as c:
            row = c.execute(query).mappings().first()
    return _review(row) if row else None


def history(store: Store, message_pk: int) -> list[dict[str, Any]]:
    query = select(reviews).where(reviews.c.message_pk == message_pk).order_by(reviews.c.version)
    with store.engine.connect() as conn:
        return [_review(r) for r in conn.execute(query).mappings()]


def _review(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["decided_at"] = as_utc(data["decided_at"])
    return data


def record(store: Store, message_pk: int, user: User, decision: Decision, seen_version: int) -> Outcome:
    """Store a decision made on ``seen_version`` (0 = nobody had decided yet)."""
    decision.check()
    classification = store.classification(message_pk)
    if classification is None:
        raise ReviewError(f"message {message_pk} has no classification to review; run the pipeline on it first.")
    model = model_decision(classification)
    action = (
        "confirmed"
        if (decision.kind, decision.dissatisfied, sorted(decision.themes), sorted(decision.flags))
        == (
            model.kind,
            model.dissatisfied,
            model.themes,
            model.flags,
        )
        else "corrected"
    )
    row = {
        "message_pk": message_pk,
        "version": seen_version + 1,
        "classification_id": classification["id"],
        "user_id": user.id,
        "user_name": user.name,
        "decided_at": _now(),
        "action": action,
        "model_kind": model.kind,
        "model_dissatisfied": model.dissatisfied,
        "model_themes": model.themes,
        "model_flags": model.flags,
        "kind": decision.kind,
        "dissatisfied": decision.dissatisfied,
        "themes": sorted(set(decision.themes)),
        "flags": sorted(set(decision.flags)),
        "note": decision.note.strip(),
    }
    try:
        with store.transaction() as conn:
            current = conn.scalar(select(func.max(reviews.c.version)).where(reviews.c.message_pk == message_pk)) or 0
            if current != seen_version:
                return Outcome(None, latest_review(store, message_pk, conn))
            row["id"] = conn.execute(insert(reviews).values(**row)).inserted_primary_key[0]
    except IntegrityError:  # another writer took this version between our check and our insert
        return Outcome(None, latest_review(store, message_pk))
    return Outcome(row, None)


def confirm(store: Store, message_pk: int, user: User, seen_version: int, note: str = "") -> Outcome:
    """Accept the model's kind, dissatisfaction, themes and flags as they are."""
    classification = store.classification(message_pk)
    if classification is None:
        raise ReviewError(f"message {message_pk} has no classification to review; run the pipeline on it first.")
    model = model_decision(classification)
    return record(
        store, message_pk, user, Decision(model.kind, model.dissatisfied, model.themes, model.flags, note), seen_version
    )


def bulk_confirm(store: Store, message_pks: Iterable[int], user: User) -> tuple[int, list[int]]:
    """Confirm items nobody has decided on yet; returns (confirmed, pks someone else decided first)."""
    done, conflicts = 0, []
    for pk in message_pks:
        if confirm(store, pk, user, 0).conflict:
            conflicts.append(pk)
        else:
            done += 1
    return done, conflicts


def _list_columns() -> list[Any]:
    return [
        messages.c.id,
        messages.c.received_at,
        messages.c.sender_addr,
        messages.c.subject,
        messages.c.channel,
        classifications.c.kind,
        classifications.c.kind_confidence,
        classifications.c.dissatisfied,
        classifications.c.themes,
        classifications.c.queue,
        classifications.c.flags,
        classifications.c.due_date,
        classifications.c.due_what,
    ]


def _rows(store: Store, query: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        row["received_at"] = as_utc(row["received_at"])
    return rows


def to_confirm(store: Store, limit: int = 50, offset: int = 0, exclude: int | None = None) -> list[dict[str, Any]]:
    """Items nobody has decided on, least confident first."""
    query = (
        select(*_list_columns())
        .join(messages, messages.c.id == classifications.c.message_pk)
        .where(latest_classification(), _unreviewed())
        .order_by(classifications.c.kind_confidence, classifications.c.id)
        .limit(limit)
        .offset(offset)
    )
    if exclude is not None:
        query = query.where(classifications.c.message_pk != exclude)
    return _rows(store, query)


def count_to_confirm(store: Store) -> int:
    """Classified messages less reviewed ones (every review is of a classified message)."""
    classified = select(func.count(func.distinct(classifications.c.message_pk)))
    reviewed = select(func.count(func.distinct(reviews.c.message_pk)))
    with store.engine.connect() as conn:
        return (conn.scalar(classified) or 0) - (conn.scalar(reviewed) or 0)


def high_confidence(store: Store, threshold: float = BULK_THRESHOLD, limit: int = 100) -> list[dict[str, Any]]:
    """Undecided items the model is sure of, most confident first: the bulk-confirm view."""
    query = (
        select(*_list_columns())
        .join(messages, messages.c.id == classifications.c.message_pk)
        .where(latest_classification(), _unreviewed(), classifications.c.kind_confidence >= threshold)
        .order_by(classifications.c.kind_confidence.desc(), classifications.c.id)
        .limit(limit)
    )
    return _rows(store, query)


def latest_reviews(store: Store) -> Iterator[dict[str, Any]]:
    """Each reviewed message's current decision (its highest version)."""
    newer = reviews.alias("newer")
    query = (
        select(reviews)
        .where(~exists().where(newer.c.message_pk == reviews.c.message_pk, newer.c.version > reviews.c.version))
        .order_by(reviews.c.message_pk)
    )
    with store.engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield _review(row)


AUDIT_COLUMNS = (
    "id",
    "message_pk",
    "version",
    "decided_at",
    "user_name",
    "action",
    "model_kind",
    "kind",
    "model_dissatisfied",
    "dissatisfied",
    "model_themes",
    "themes",
    "model_flags",
    "flags",
    "note",
)


def audit_trail(store: Store) -> Iterator[dict[str, Any]]:
    """Every decision ever made, oldest first."""
    with store.engine.connect() as conn:
        for row in conn.execute(select(reviews).order_by(reviews.c.id)).mappings():
            yield _review(row)
