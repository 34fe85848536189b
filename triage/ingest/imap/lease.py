"""One reader per IMAP folder, however many watchers run: a lease row per folder in the store.

A watcher takes the folder's lease before reading it and renews it in the transaction of each
batch it stores; a batch whose lease was lost (the watcher stalled past ``expires_at`` and
another took over) is rolled back, so two watchers never both store, checkpoint and act on the
same UIDs. The others stand by: ``triage watch`` looks again at its next poll, ``--once`` waits
for the lease. A clean stop releases the lease at once; after a crash it expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, or_, select, update

from triage.store.db import Store
from triage.store.locks import insert_ignore
from triage.store.schema import imap_leases

EXPIRED = datetime(1970, 1, 1, tzinfo=UTC)


class LeaseLost(Exception):
    """Another watcher holds the folder now: this one stops reading it."""


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def ttl_for(poll_seconds: float) -> timedelta:
    """Long enough to outlast one IDLE wait and a slow batch: a lease is renewed at least that often."""
    return timedelta(seconds=2 * poll_seconds + 60)


def hold(conn: Connection, mailbox: str, folder: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease in ``conn``'s transaction (on PostgreSQL the row stays locked until
    it ends). False when another watcher holds it and it has not expired."""
    now = datetime.now(UTC)
    conn.execute(insert_ignore(conn, imap_leases).values(mailbox=mailbox, folder=folder, holder=holder, expires_at=now + ttl))
    where = (imap_leases.c.mailbox == mailbox, imap_leases.c.folder == folder)
    taken = conn.execute(
        update(imap_leases)
        .where(*where, or_(imap_leases.c.holder == holder, imap_leases.c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    return taken == 1


def take(store: Store, mailbox: str, folder: str, holder: str, ttl: timedelta) -> bool:
    with store.transaction() as conn:
        return hold(conn, mailbox, folder, holder, ttl)


def holder_of(store: Store, mailbox: str, folder: str) -> str | None:
    with store.engine.connect() as conn:
        return conn.scalar(select(imap_leases.c.holder).where(imap_leases.c.mailbox == mailbox, imap_leases.c.folder == folder))


def release(store: Store, mailbox: str, folder: str, holder: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            update(imap_leases)
            .where(imap_leases.c.mailbox == mailbox, imap_leases.c.folder == folder, imap_leases.c.holder == holder)
            .values(expires_at=EXPIRED)
        )
