"""Locks and idempotent writes that let several triage processes share one store.

PostgreSQL: transaction-scoped advisory locks (released at commit or rollback, and when a
crashed process's connection closes). SQLite: every write transaction starts with
``BEGIN IMMEDIATE``, so writers queue on the file's own lock (``busy_timeout``) instead of
failing when a read turns into a write.

Inserts that another process may have made meanwhile are ``INSERT ... ON CONFLICT DO NOTHING``
on the row's unique key (the dialect's own insert), so a repeated write is a no-op, never an
error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

# Advisory lock keys (any 64-bit numbers, fixed so every triage agrees on them).
SCHEMA_LOCK = 0x7472_6961_6765_0001  # migrations
CASES_LOCK = 0x7472_6961_6765_0002  # linking messages to cases

T = TypeVar("T")


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def begin_write(conn: Connection) -> None:
    """SQLite: take the write lock now (the first statement of the transaction must be this)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def advisory_lock(conn: Connection, key: int) -> None:
    """PostgreSQL: wait for the lock ``key`` until this transaction ends. SQLite: nothing to
    do, the transaction already holds the only write lock."""
    if is_postgresql(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def insert_ignore(conn: Connection, table: Table) -> Any:
    """An INSERT on ``table`` that skips rows whose unique key is already taken."""
    dialect = postgresql if is_postgresql(conn) else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


RETRIES = 5


def retry_on_conflict(fn: Callable[[], T], what: str = "write") -> T:
    """Run a write transaction again when the database chose it as a deadlock victim or could
    not serialise it (two workers touching the same rows in different orders)."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except OperationalError as exc:
            if attempt == RETRIES - 1 or not _retryable(exc):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code in ("40P01", "40001"):  # deadlock detected, serialization failure
        return True
    return "database is locked" in str(exc.orig)
