"""The message store: SQLite by default, PostgreSQL with only a different URL.

Opening a store upgrades its schema to the current version (Alembic migrations), so a store
made by an earlier triage keeps everything it holds. Messages are written in batches, in one
transaction each, deduplicated by raw-bytes hash and by Message-ID.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Text,
    and_,
    cast,
    create_engine,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.types import Date

from triage.errors import StoreError
from triage.message import Message, Quarantined
from triage.store.locks import SCHEMA_LOCK, advisory_lock, begin_write, insert_ignore, retry_on_conflict
from triage.store.schema import attachments, case_messages, cases, classifications, messages, quarantine, runs

BATCH = 500
# A new SQLite store's page size. A stored message is about 25 KB (raw bytes and text), which at
# SQLite's default of 4 KB spills over six or seven overflow pages, each written to the WAL and
# again at a checkpoint; at 16 KB storing a batch took about a fifth less CPU. (An existing
# store keeps the page size it was made with: SQLite changes it only on VACUUM.)
SQLITE_PAGE_SIZE = 16384


@dataclass
class Counts:
    """What one ingest did. ``seen`` always equals the sum of the other three."""

    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.seen += other.seen
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.problems += other.problems

    def as_dict(self) -> dict[str, Any]:
        return {"seen": self.seen, "stored": self.stored, "duplicates": self.duplicates, "quarantined": self.quarantined}


def normalise_url(url: str | Path) -> str:
    """A plain path means a SQLite file; ``postgresql://`` uses psycopg 3."""
    text = str(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def _clean(value: str) -> str:
    """Text safe for every backend: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything triage stores is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Store:
    def __init__(self, url: str | Path, *, upgrade: bool = True) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            db_path = self.url.removeprefix("sqlite:///")
            if db_path and db_path != ":memory:" and not Path(db_path).parent.exists():
                raise StoreError(f"{db_path}: the folder for the store does not exist. Create it or choose another --store.")
        try:
            self.engine: Engine = create_engine(self.url)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"{url}: not a usable database URL ({exc}). Use a file path or postgresql://user@host/db.") from exc
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if upgrade:
            self.upgrade()

    # -- schema ---------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Bring the schema to head. Several processes may open a new store at once: the
        upgrade runs under a lock (PostgreSQL advisory lock, SQLite's write lock), and each
        reads the version again once it holds it."""
        from triage.store.migrate import at_head, upgrade_to_head

        def upgrade_once() -> None:
            with self.engine.connect() as conn:
                if at_head(conn):
                    return
            with self.transaction() as conn:
                advisory_lock(conn, SCHEMA_LOCK)
                upgrade_to_head(conn)

        try:
            # Two processes creating one new SQLite file can find it locked without waiting
            # (SQLite's deadlock avoidance while the file is still in rollback mode): try again.
            retry_on_conflict(upgrade_once, "schema upgrade")
        except OperationalError as exc:
            raise StoreError(f"could not open the store {self.url!r}: {exc.orig}. Check the path or the server.") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (SQLite: holding the write lock from its start, so two writers
        queue rather than fail)."""
        with self.engine.begin() as conn:
            begin_write(conn)
            yield conn

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, pipeline: str) -> int:
        with self.transaction() as conn:
            return conn.execute(
                insert(runs).values(pipeline=pipeline, started_at=_now(), seen=0, stored=0, duplicates=0, quarantined=0)
            ).inserted_primary_key[0]

    def finish_run(self, run_id: int, counts: Counts) -> None:
        with self.transaction() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=_now(), **counts.as_dict()))

    # -- writing --------------------------------------------------------------------------
    def add(self, items: Iterable[Message | Quarantined], run_id: int | None = None) -> Counts:
        """Store items in batches; returns what happened to each."""
        counts = Counts()
        batch: list[Message | Quarantined] = []
        for item in items:
            batch.append(item)
            if len(batch) >= BATCH:
                counts.add(self._add_one_batch(batch, run_id))
                batch = []
        if batch:
            counts.add(self._add_one_batch(batch, run_id))
        return counts

    def _add_one_batch(self, batch: list[Message | Quarantined], run_id: int | None) -> Counts:
        def write() -> Counts:
            with self.transaction() as conn:
                return self.add_batch(conn, batch, run_id)

        return retry_on_conflict(write)

    def add_batch(self, conn: Connection, batch: list[Message | Quarantined], run_id: int | None) -> Counts:
        """Store one batch inside the caller's transaction (so a caller can checkpoint in it)."""
        counts = Counts(seen=len(batch))
        msgs = [m for m in batch if isinstance(m, Message)]
        held = [q for q in batch if isinstance(q, Quarantined)]
        new_msgs = self._new_messages(conn, msgs)
        stored = self._insert_messages(conn, new_msgs, run_id) if new_msgs else 0
        counts.stored += stored  # the rest: in the store already, or stored by another writer meanwhile
        counts.duplicates += len(msgs) - stored
        new_held = self._new_quarantined(conn, held)
        if new_held:
            rows = [_quarantine_row(q, run_id) for q in new_held]
            kept = set(conn.scalars(insert_ignore(conn, quarantine).returning(quarantine.c.sha256), rows))
            new_held = [q for q in new_held if q.sha256 in kept]
        counts.duplicates += len(held) - len(new_held)
        counts.quarantined += len(new_held)
        counts.problems += [f"{q.source.describe()}: {q.reason}" for q in new_held]
        return counts

    def new_messages(self, conn: Connection, msgs: list[Message]) -> list[Message]:
        """Those of ``msgs`` the store does not hold yet (by raw hash and Message-ID), first of each."""
        return self._new_messages(conn, msgs)

    def _new_messages(self, conn: Connection, msgs: list[Message]) -> list[Message]:
        if not msgs:
            return []
        hashes = {m.sha256 for m in msgs}
        ids = {m.message_id for m in msgs if m.message_id}
        seen_hashes = set(conn.scalars(select(messages.c.sha256).where(messages.c.sha256.in_(hashes))))
        seen_ids = set(conn.scalars(select(messages.c.message_id).where(messages.c.message_id.in_(ids)))) if ids else set()
        fresh = []
        for m in msgs:
            if m.sha256 in seen_hashes or (m.message_id and m.message_id in seen_ids):
                continue
            seen_hashes.add(m.sha256)
            if m.message_id:
                seen_ids.add(m.message_id)
            fresh.append(m)
        return fresh

    def _new_quarantined(self, conn: Connection, held: list[Quarantined]) -> list[Quarantined]:
        if not held:
            return []
        known = set(conn.scalars(select(quarantine.c.sha256).where(quarantine.c.sha256.in_({q.sha256 for q in held}))))
        fresh = []
        for q in held:
            if q.sha256 not in known:
                known.add(q.sha256)
                fresh.append(q)
        return fresh

    def _insert_messages(self, conn: Connection, msgs: list[Message], run_id: int | None) -> int:
        """Insert those not stored yet (by hash or Message-ID, whoever stored them); returns how
        many this call stored."""
        now = _now()
        rows = [_message_row(m, run_id, now) for m in msgs]
        result = conn.execute(insert_ignore(conn, messages).returning(messages.c.id, messages.c.sha256), rows)
        pk_of = {row.sha256: row.id for row in result}
        msgs = [m for m in msgs if m.sha256 in pk_of]
        pks = [pk_of[m.sha256] for m in msgs]
        att_rows = [
            {
                "message_pk": pk,
                "filename": _clean(a.filename),
                "content_type": _clean(a.content_type),
                "size": a.size,
                "content": a.content,
            }
            for pk, m in zip(pks, msgs, strict=True)
            for a in m.attachments
        ]
        if att_rows:
            conn.execute(insert(attachments), att_rows)
        return len(pks)

    # -- classifications --------------------------------------------------------------------
    _TO_CLASSIFY = (
        messages.c.id,
        messages.c.subject,
        messages.c.body_new,
        messages.c.body_quoted,
        messages.c.channel,
        messages.c.sender_addr,
        messages.c.automated,
        messages.c.received_at,
        messages.c.message_id,
        messages.c.in_reply_to,
        messages.c.references,
        messages.c.respondent_ref,
    )
    _RECEIVED_ORDER = (messages.c.received_at.is_(None), messages.c.received_at, messages.c.id)

    def unclassified(self, model_sha256: str, limit: int = 500) -> list[dict[str, Any]]:
        """Messages with no classification from this model yet, in the order they were received
        (so a reply is linked to its case after the message it answers)."""
        done = select(classifications.c.message_pk).where(classifications.c.model_sha256 == model_sha256)
        query = select(*self._TO_CLASSIFY).where(messages.c.id.not_in(done)).order_by(*self._RECEIVED_ORDER).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def unclassified_ids(self, model_sha256: str) -> list[int]:
        """Keys of every message this model has not classified, in the order received: one query
        for a whole backlog (then ``to_classify`` reads them batch by batch)."""
        done = select(classifications.c.message_pk).where(classifications.c.model_sha256 == model_sha256)
        query = select(messages.c.id).where(messages.c.id.not_in(done)).order_by(*self._RECEIVED_ORDER)
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def to_classify(self, ids: list[int]) -> list[dict[str, Any]]:
        """What classifying and case linking read about these messages, in the order of ``ids``."""
        with self.engine.connect() as conn:
            found = {r["id"]: dict(r) for r in conn.execute(select(*self._TO_CLASSIFY).where(messages.c.id.in_(ids))).mappings()}
        return [found[i] for i in ids if i in found]

    CLASSIFICATION_FIELDS = (
        "kind",
        "kind_scores",
        "dissatisfied",
        "dissatisfied_score",
        "themes",
        "theme_scores",
        "status",
        "needs_review",
        "review_reasons",
        "evidence",
    )
    ROUTING_DEFAULTS = (
        ("queue", ""),
        ("on_complaints_register", False),
        ("route_rule", ""),
        ("flags", []),
        ("due_date", None),
        ("due_what", ""),
    )

    def add_classifications(
        self, model: str, model_sha256: str, rows: list[tuple[int, dict[str, Any]]], conn: Connection | None = None
    ) -> int:
        """Store predictions (``Prediction.as_dict()`` plus optional routing fields) for messages,
        in ``conn``'s transaction when given. Returns how many were new (a message this model
        has classified already, here or in another process, keeps its first classification)."""
        if conn is not None:
            return len(self.insert_classifications(model, model_sha256, rows, conn))
        with self.transaction() as own:
            return len(self.insert_classifications(model, model_sha256, rows, own))

    def insert_classifications(
        self, model: str, model_sha256: str, rows: list[tuple[int, dict[str, Any]]], conn: Connection
    ) -> set[int]:
        """``add_classifications`` in ``conn``'s transaction; returns the message keys stored."""
        if not rows:
            return set()
        now = _now()
        values = [
            {
                "message_pk": pk,
                "model": model,
                "model_sha256": model_sha256,
                "created_at": now,
                **{k: p[k] for k in self.CLASSIFICATION_FIELDS},
                **{k: p.get(k, d) for k, d in self.ROUTING_DEFAULTS},
                "kind_confidence": float(p["kind_scores"].get(p["kind"], 0.0)),
            }
            for pk, p in rows
        ]
        stmt = insert_ignore(conn, classifications).returning(classifications.c.message_pk)
        return set(conn.scalars(stmt, values))

    def queue(
        self,
        area: str | None = None,
        kind: str | None = None,
        due_before: date | None = None,
        limit: int = 500,
        flag: str | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Messages with their latest classification, by due date (undated last), then received.

        The due date is the earlier of the message's own clock (a hazard, the first
        acknowledgement) and its case's next Code clock, which follows the events staff record.

        A page never sorts every message: the rows whose clock is the message's own and those
        whose clock is their case's are each read in due-date order (at most offset + limit of
        each) and merged; the undated are read, in received order, only when the dated run out.
        """
        filters = _QueueFilters(area, kind, due_before, flag)
        want = offset + limit
        message_due, case_due = classifications.c.due_date, cases.c.due_date
        dated = union_all(
            *(
                select(part.subquery())
                for part in (
                    filters.part(
                        message_due,
                        classifications.c.due_what,
                        and_(message_due.is_not(None), or_(case_due.is_(None), case_due >= message_due)),
                        want,
                    ),
                    filters.part(
                        case_due,
                        cases.c.due_what,
                        and_(case_due.is_not(None), or_(message_due.is_(None), case_due < message_due)),
                        want,
                        on_case=True,
                    ),
                )
            )
        ).subquery()
        with self.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(dated).order_by(dated.c.due_date, dated.c.received_at, dated.c.id).limit(want)
                ).mappings()
            ]
            page = rows[offset:]
            if len(rows) < want and due_before is None:  # the dated ran out: the undated follow
                undated = and_(  # written so no due-date index is used: walking received times is faster
                    func.coalesce(cast(message_due, Text), "") == "", func.coalesce(cast(case_due, Text), "") == ""
                )
                query = filters.part(
                    literal(None, Date),
                    classifications.c.due_what,
                    undated,
                    limit - len(page),
                    max(0, offset - len(rows)),
                    dated=False,
                )
                page += [dict(r) for r in conn.execute(query).mappings()]
        for row in page:
            row["received_at"] = as_utc(row["received_at"])
            row["case_flags"] = row["case_flags"] or []
        return page

    def analyse(self) -> None:
        """Refresh the query planner's statistics (SQLite: a bounded sample, a few milliseconds).

        Without them SQLite may sort every message for a queue page instead of walking an index."""
        if self.is_sqlite:
            with self.transaction() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")

    def classification(self, message_pk: int) -> dict[str, Any] | None:
        query = (
            select(classifications)
            .where(classifications.c.message_pk == message_pk)
            .order_by(classifications.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
            return dict(row) if row else None

    # -- reading --------------------------------------------------------------------------
    def count(self, table: str = "messages") -> int:
        tables = {
            "messages": messages,
            "quarantine": quarantine,
            "attachments": attachments,
            "runs": runs,
            "classifications": classifications,
        }
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(tables[table])) or 0

    def message(self, pk: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(messages).where(messages.c.id == pk)).mappings().first()
            if row is None:
                return None
            data = dict(row)
            data["attachments"] = [
                dict(r)
                for r in conn.execute(
                    select(attachments.c.filename, attachments.c.content_type, attachments.c.size).where(
                        attachments.c.message_pk == pk
                    )
                ).mappings()
            ]
        for key in ("received_at", "ingested_at"):
            data[key] = as_utc(data[key])
        return data

    def quarantined(self, status: str | None = "held") -> list[dict[str, Any]]:
        query = select(
            quarantine.c.id,
            quarantine.c.source,
            quarantine.c.reason,
            quarantine.c.created_at,
            quarantine.c.status,
            quarantine.c.message_pk,
        ).order_by(quarantine.c.id)
        if status:
            query = query.where(quarantine.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def quarantine_item(self, qid: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(quarantine).where(quarantine.c.id == qid)).mappings().first()
            return dict(row) if row else None

    def release(self, conn: Connection, qid: int, message_pk: int | None) -> None:
        conn.execute(
            update(quarantine).where(quarantine.c.id == qid).values(status="released", released_at=_now(), message_pk=message_pk)
        )

    def message_pk_for(self, conn: Connection, sha256: str, message_id: str | None) -> int | None:
        pk = conn.scalar(select(messages.c.id).where(messages.c.sha256 == sha256))
        if pk is None and message_id:
            pk = conn.scalar(select(messages.c.id).where(messages.c.message_id == message_id))
        return pk


@dataclass(frozen=True, slots=True)
class _QueueFilters:
    area: str | None
    kind: str | None
    due_before: date | None
    flag: str | None

    def part(
        self, due: Any, what: Any, where: Any, limit: int, offset: int = 0, on_case: bool = False, dated: bool = True
    ) -> Select:
        """Queue rows matching ``where`` and the filters, by ``due`` then received, one page."""
        join = Select.join if on_case else Select.outerjoin  # a case's clock needs a case
        query = select(
            messages.c.id,
            messages.c.received_at,
            messages.c.sender_addr,
            messages.c.subject,
            messages.c.channel,
            classifications.c.kind,
            classifications.c.queue,
            classifications.c.on_complaints_register,
            classifications.c.flags,
            classifications.c.needs_review,
            case_messages.c.case_pk,
            cases.c.stage.label("case_stage"),
            cases.c.flags.label("case_flags"),
            due.label("due_date"),
            what.label("due_what"),
        ).join(classifications, classifications.c.message_pk == messages.c.id)
        query = join(query, case_messages, case_messages.c.message_pk == messages.c.id)
        query = join(query, cases, cases.c.id == case_messages.c.case_pk).where(latest_classification(), where)
        if self.area:
            query = query.where(func.lower(classifications.c.queue) == self.area.lower())
        if self.kind:  # lower(): kinds are lower case; the planner then walks dates, not every row of the kind
            query = query.where(func.lower(classifications.c.kind) == self.kind)
        if self.flag:  # flags are stored as JSON text: match the serialised "type" or "rule" value
            text = cast(classifications.c.flags, Text)
            query = query.where(or_(text.contains(f'"type": "{self.flag}"'), text.contains(f'"rule": "{self.flag}"')))
        if self.due_before is not None:
            query = query.where(due <= self.due_before)
        order = (due, messages.c.received_at, messages.c.id) if dated else (messages.c.received_at, messages.c.id)
        return query.order_by(*order).limit(limit).offset(offset)


def latest_classification() -> ColumnElement[bool]:
    """True for a message's newest classification (no newer row for the same message)."""
    newer = classifications.alias("newer")
    return ~exists().where(newer.c.message_pk == classifications.c.message_pk, newer.c.id > classifications.c.id)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")  # first: switching a new file to WAL waits for another opener's lock
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL: only a new, empty file takes it
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _message_row(m: Message, run_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "sha256": m.sha256,
        "message_id": _clean(m.message_id) if m.message_id else None,
        "in_reply_to": _clean(m.in_reply_to) if m.in_reply_to else None,
        "references": [_clean(r) for r in m.references],
        "channel": m.channel,
        "source_type": m.source.type,
        "source": _clean(m.source.describe()),
        "source_detail": m.source.as_dict(),
        "received_at": m.received_at,
        "ingested_at": now,
        "sender_name": _clean(m.sender_name),
        "sender_addr": _clean(m.sender_addr),
        "recipients": [_clean(r) for r in m.recipients],
        "subject": _clean(m.subject),
        "body_new": _clean(m.body_new),
        "body_quoted": _clean(m.body_quoted),
        "body_signature": _clean(m.body_signature),
        "body_format": m.body_format,
        "automated": m.automated,
        "automated_reason": _clean(m.automated_reason),
        "respondent_ref": _clean(m.respondent_ref),
        "defects": m.defects,
        "size": len(m.raw),
        "raw": m.raw,
        "run_id": run_id,
    }


def _quarantine_row(q: Quarantined, run_id: int | None) -> dict[str, Any]:
    return {
        "sha256": q.sha256,
        "source_type": q.source.type,
        "source": _clean(q.source.describe()),
        "source_detail": q.source.as_dict(),
        "reason": _clean(q.reason),
        "raw": q.raw,
        "created_at": _now(),
        "status": "held",
        "run_id": run_id,
    }
