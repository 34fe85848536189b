"""Where triage has got to in each IMAP folder, kept in the store.

A folder's checkpoint is (UIDVALIDITY, last UID stored). It is written in the same transaction
as the messages of a batch, so after a crash at any point the store and the checkpoint agree:
the next run fetches exactly the UIDs after the checkpoint (and the store's dedupe by raw hash
and Message-ID is a second guard). Mailbox actions still to apply (keywords, move, draft) are
rows of ``imap_pending`` written in that same transaction and deleted once applied, so an action
interrupted by a crash is applied on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from triage.message import Message, Quarantined
from triage.store.db import Store, as_utc
from triage.store.locks import insert_ignore
from triage.store.schema import classifications, imap_checkpoints, imap_pending, messages


@dataclass(frozen=True, slots=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


@dataclass(slots=True)
class Pending:
    """A stored message with mailbox actions still to apply, and what its classification says."""

    id: int
    uid: int
    quarantined: bool
    new: bool
    message_pk: int | None
    kind: str | None = None
    queue: str | None = None
    needs_review: bool = False
    message: dict[str, Any] | None = None  # sender, subject, Message-ID, received: for drafts


def get(conn: Connection, mailbox: str, folder: str) -> Checkpoint | None:
    row = conn.execute(
        select(imap_checkpoints.c.uidvalidity, imap_checkpoints.c.last_uid).where(
            imap_checkpoints.c.mailbox == mailbox, imap_checkpoints.c.folder == folder
        )
    ).first()
    return Checkpoint(row.uidvalidity, row.last_uid) if row else None


def read(store: Store, mailbox: str, folder: str) -> Checkpoint | None:
    with store.engine.connect() as conn:
        return get(conn, mailbox, folder)


def save(conn: Connection, mailbox: str, folder: str, checkpoint: Checkpoint) -> None:
    values = {"uidvalidity": checkpoint.uidvalidity, "last_uid": checkpoint.last_uid, "updated_at": datetime.now(UTC)}
    where = (imap_checkpoints.c.mailbox == mailbox, imap_checkpoints.c.folder == folder)
    if conn.execute(update(imap_checkpoints).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert_ignore(conn, imap_checkpoints).values(mailbox=mailbox, folder=folder, **values))


def forget_pending(conn: Connection, mailbox: str, folder: str, keep_uidvalidity: int) -> int:
    """Pending actions under an old UIDVALIDITY name UIDs that no longer exist: drop them."""
    return conn.execute(
        delete(imap_pending).where(
            imap_pending.c.mailbox == mailbox, imap_pending.c.folder == folder, imap_pending.c.uidvalidity != keep_uidvalidity
        )
    ).rowcount


def add_pending(
    conn: Connection,
    mailbox: str,
    folder: str,
    uidvalidity: int,
    items: list[tuple[int, Message | Quarantined]],
    new_shas: set[str],
) -> None:
    """Record, inside the batch's transaction, the actions due for each fetched UID."""
    msgs = [m for _, m in items if isinstance(m, Message)]
    by_sha: dict[str, int] = {}
    by_mid: dict[str, int] = {}
    if msgs:
        shas = {m.sha256 for m in msgs}
        mids = {m.message_id for m in msgs if m.message_id}
        by_sha = dict(conn.execute(select(messages.c.sha256, messages.c.id).where(messages.c.sha256.in_(shas))).all())
        if mids:
            by_mid = dict(conn.execute(select(messages.c.message_id, messages.c.id).where(messages.c.message_id.in_(mids))).all())
    now = datetime.now(UTC)
    rows = []
    for uid, item in items:
        pk = None
        if isinstance(item, Message):
            pk = by_sha.get(item.sha256) or (by_mid.get(item.message_id) if item.message_id else None)
        rows.append(
            {
                "mailbox": mailbox,
                "folder": folder,
                "uidvalidity": uidvalidity,
                "uid": uid,
                "message_pk": pk,
                "quarantined": isinstance(item, Quarantined),
                "new": item.sha256 in new_shas,
                "created_at": now,
            }
        )
    if rows:
        conn.execute(insert_ignore(conn, imap_pending), rows)


def pending(store: Store, mailbox: str, folder: str, uidvalidity: int) -> list[Pending]:
    """Actions still due in a folder, with each message's latest classification."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(imap_pending)
            .where(imap_pending.c.mailbox == mailbox, imap_pending.c.folder == folder, imap_pending.c.uidvalidity == uidvalidity)
            .order_by(imap_pending.c.uid)
        ).all()
        out = [Pending(r.id, r.uid, r.quarantined, r.new, r.message_pk) for r in rows]
        pks = {p.message_pk for p in out if p.message_pk is not None}
        if not pks:
            return out
        latest: dict[int, Any] = {}
        for c in conn.execute(
            select(classifications.c.message_pk, classifications.c.kind, classifications.c.queue, classifications.c.needs_review)
            .where(classifications.c.message_pk.in_(pks))
            .order_by(classifications.c.id)
        ):
            latest[c.message_pk] = c
        info = {
            m.id: {**m._asdict(), "received_at": as_utc(m.received_at)}
            for m in conn.execute(
                select(
                    messages.c.id,
                    messages.c.sha256,
                    messages.c.message_id,
                    messages.c.sender_name,
                    messages.c.sender_addr,
                    messages.c.subject,
                    messages.c.body_new,
                    messages.c.received_at,
                ).where(messages.c.id.in_(pks))
            )
        }
    for p in out:
        if p.message_pk is None:
            continue
        p.message = info.get(p.message_pk)
        if (c := latest.get(p.message_pk)) is not None:
            p.kind, p.queue, p.needs_review = c.kind, c.queue, c.needs_review
    return out


def done(store: Store, ids: list[int]) -> None:
    if ids:
        with store.transaction() as conn:
            conn.execute(delete(imap_pending).where(imap_pending.c.id.in_(ids)))
