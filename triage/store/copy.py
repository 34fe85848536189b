"""Move a store to another database (a SQLite file to PostgreSQL): ``triage store copy``.

Every table is copied in primary-key order, in batches of one transaction each, with its keys
kept (so every reference between rows still holds). Rows already in the target are skipped
(``ON CONFLICT DO NOTHING``), so a copy that was interrupted is resumed by running it again,
and a row is never copied twice. PostgreSQL's id sequences are moved past the copied keys at
the end, so new rows written there get new keys. Nothing else may write to the target until
the copy has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Table, func, or_, select, text, update

from triage.errors import StoreError
from triage.store.db import Store, as_utc
from triage.store.locks import insert_ignore
from triage.store.schema import messages, metadata

BATCH = 1000


@dataclass
class CopyResult:
    copied: dict[str, int] = field(default_factory=dict)  # table -> rows copied by this run
    skipped: dict[str, int] = field(default_factory=dict)  # table -> rows the target had already


def copy_store(
    source: Store, target: Store, batch: int = BATCH, progress: Callable[[str, int], None] | None = None
) -> CopyResult:
    """Copy every row of ``source`` into ``target`` (both at the current schema)."""
    if source.url == target.url:
        raise StoreError("the source and the target are the same store. Name a new PostgreSQL database as the target.")
    _check_target(source, target)
    result = CopyResult()
    for table in metadata.sorted_tables:  # parents before the rows that refer to them
        copied, skipped = _copy_table(source, target, table, batch, progress)
        result.copied[table.name], result.skipped[table.name] = copied, skipped
    if target.engine.dialect.name == "postgresql":
        _move_sequences(target)
    return result


def _check_target(source: Store, target: Store) -> None:
    """The target must be empty or an earlier copy of this source (the same message under the
    same key), never another store whose keys would clash."""
    with target.engine.connect() as conn:
        last = conn.execute(select(messages.c.id, messages.c.sha256).order_by(messages.c.id.desc()).limit(1)).first()
    if last is None:
        return
    with source.engine.connect() as conn:
        same = conn.scalar(select(messages.c.sha256).where(messages.c.id == last.id))
    if same != last.sha256:
        raise StoreError(
            f"{_safe(target.url)}: the target already holds other messages (message {last.id} differs from the source's). "
            "Copy into a new, empty database, or run the pipelines against the target directly."
        )


def _copy_table(
    source: Store, target: Store, table: Table, batch: int, progress: Callable[[str, int], None] | None
) -> tuple[int, int]:
    (key,) = table.primary_key.columns
    dates = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    # A row may refer to a later row of its own table (a case merged into a newer case): those
    # references are written once every row is there.
    self_refs = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    copied = skipped = 0
    after: Any = None
    while True:
        query = select(table).order_by(key).limit(batch)
        if after is not None:
            query = query.where(key > after)
        with source.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        if not rows:
            if self_refs:
                _write_self_refs(source, target, table, key, self_refs)
            return copied, skipped
        for row in rows:
            for name in self_refs:
                row[name] = None
            for name in dates:  # SQLite hands back naive UTC: say so, or PostgreSQL reads local time
                row[name] = as_utc(row[name])
        with target.transaction() as conn:
            new = len(conn.execute(insert_ignore(conn, table).returning(key), rows).all())
        copied += new
        skipped += len(rows) - new
        after = rows[-1][key.name]
        if progress is not None:
            progress(table.name, copied + skipped)


def _write_self_refs(source: Store, target: Store, table: Table, key: Any, names: list[str]) -> None:
    cols = [table.c[n] for n in names]
    with source.engine.connect() as conn:
        rows = conn.execute(select(key, *cols).where(or_(*(c.is_not(None) for c in cols)))).all()
    if rows:
        with target.transaction() as conn:
            for row in rows:
                conn.execute(update(table).where(key == row[0]).values(dict(zip(names, row[1:], strict=True))))


def _move_sequences(target: Store) -> None:
    with target.transaction() as conn:
        for table in metadata.sorted_tables:
            (key,) = table.primary_key.columns
            if key.name != "id" or not key.autoincrement:
                continue
            seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
            if seq is None:
                continue
            top = conn.scalar(select(func.max(key)))
            conn.execute(text("SELECT setval(:seq, :value, :called)"), {"seq": seq, "value": top or 1, "called": top is not None})


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
