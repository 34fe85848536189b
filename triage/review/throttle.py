"""Sign-in throttling that slows guessing without locking staff out, and the sign-in log.

Failures are counted per account name *and* source address, so wrong passwords typed from one
address never hold up the same account at another. After ``FREE_FAILURES`` for a name from an
address (since its last success there, or an admin's lift), each further try must wait twice as
long as the one before (``FIRST_DELAY``, up to ``MAX_DELAY``). Across names, an address gets at
most ``ADDRESS_FAILURES_PER_MINUTE`` failures in any minute. A throttled try is answered before
the password is checked, and never counts as a failure. Unknown names are throttled exactly like
known ones, so the answer says nothing about which names exist.

Every try is logged (``sign_in_attempts``): success, failure, throttled, and an admin's lift.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select

from triage.store.db import Store, as_utc
from triage.store.schema import sign_in_attempts

log = logging.getLogger("triage.review.sign_in")

ATTEMPT_WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
FREE_FAILURES = 5  # per name and address before any wait
FIRST_DELAY = timedelta(seconds=6)
MAX_DELAY = timedelta(minutes=5)
ADDRESS_FAILURES_PER_MINUTE = 10
KEEP_LOG = timedelta(days=90)
ANY = "*"  # a lift for every name (or every address)
OUTCOMES = ("success", "failure", "throttled", "lifted")


class Throttled(Exception):
    """Too many failures for this name from this address, or from this address: wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after  # seconds

    def __str__(self) -> str:
        return f"too many failed sign-ins from this address; try again in {self.retry_after} seconds"


def _delay(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


def wait_needed(conn: Any, name: str, address: str, now: datetime) -> timedelta:
    """How long this name, from this address, must wait before its password is checked."""
    t = sign_in_attempts.c
    rows = conn.execute(
        select(t.name, t.address, t.at, t.outcome)
        .where(
            t.at >= now - ATTEMPT_WINDOW,
            or_(
                and_(t.name == name, t.address.in_((address, ANY))),
                and_(t.name == ANY, t.address == address, t.outcome == "lifted"),
            ),
        )
        .order_by(t.at.desc(), t.id.desc())
    ).all()
    pair: list[datetime] = []  # failures of this name from this address, newest first
    by_address: list[datetime] = []  # failures from this address within the last minute (any name)
    for row in rows:
        if row.outcome == "lifted" or (row.outcome == "success" and row.address == address):
            break
        if row.outcome == "failure" and row.address == address:
            pair.append(as_utc(row.at))
    address_rows = conn.execute(
        select(t.at, t.outcome, t.name)
        .where(t.address == address, t.at >= now - timedelta(minutes=1), t.outcome.in_(("failure", "lifted")))
        .order_by(t.at.desc(), t.id.desc())
    ).all()
    for row in address_rows:
        if row.outcome == "lifted" and row.name == ANY:
            break
        if row.outcome == "failure":
            by_address.append(as_utc(row.at))
    waits = [timedelta(0)]
    if pair:
        waits.append(pair[0] + _delay(len(pair)) - now)
    if len(by_address) >= ADDRESS_FAILURES_PER_MINUTE:
        waits.append(by_address[ADDRESS_FAILURES_PER_MINUTE - 1] + timedelta(minutes=1) - now)
    return max(waits)


def check(store: Store, name: str, address: str, now: datetime) -> None:
    """Raise Throttled (after logging it) when this try must wait."""
    with store.transaction() as conn:
        wait = wait_needed(conn, name, address, now)
        if wait > timedelta(0):
            record(conn, name, address, "throttled", now)
    if wait > timedelta(0):
        raise Throttled(max(1, math.ceil(wait.total_seconds())))


def record(conn: Any, name: str, address: str, outcome: str, now: datetime) -> None:
    conn.execute(
        insert(sign_in_attempts).values(name=name[:64], address=address[:64], at=now, ok=outcome == "success", outcome=outcome)
    )
    log.info(
        "sign-in %s for %r from %s",
        outcome,
        name[:64],
        address[:64],
        extra={"user_name": name[:64], "address": address[:64], "outcome": outcome},
    )


def lift(store: Store, now: datetime, name: str | None = None, address: str | None = None) -> None:
    """Forget the failures of a name (from every address or one), or of an address (every name)."""
    if name is None and address is None:
        raise ValueError("lift needs a name, an address or both")
    with store.transaction() as conn:
        record(conn, name or ANY, address or ANY, "lifted", now)


def sign_in_log(
    store: Store, name: str | None = None, address: str | None = None, since: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The sign-in log, newest first."""
    t = sign_in_attempts.c
    query = select(t.at, t.name, t.address, t.outcome).order_by(t.at.desc(), t.id.desc()).limit(limit)
    if name is not None:
        query = query.where(t.name == name)
    if address is not None:
        query = query.where(t.address == address)
    if since is not None:
        query = query.where(t.at >= since)
    with store.engine.connect() as conn:
        return [dict(r) | {"at": as_utc(r["at"])} for r in conn.execute(query).mappings()]


def tidy(conn: Any, now: datetime) -> None:
    conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < now - KEEP_LOG))
