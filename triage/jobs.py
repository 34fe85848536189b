"""Jobs the CLI runs: ingest paths into a store, run a pipeline, retry quarantined items.

A problem with one source (a missing folder, a survey with a misspelt column) is reported and
the job goes on with the other sources; the caller decides the exit code from ``problems``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage.cases.rules import CaseRules
from triage.errors import ConfigError, ImapError, InputError
from triage.ingest.email_parse import parse_email
from triage.ingest.files import Item, iter_paths, read_file
from triage.ingest.outlook import OLE_MAGIC, parse_msg
from triage.ingest.survey import SurveyColumns, read_survey
from triage.message import Message, Quarantined, Source
from triage.pipeline import FilesSource, ImapSource, Pipeline, SurveySource
from triage.store.db import Counts, Store

if TYPE_CHECKING:
    from triage.classify.model import TriageModel
    from triage.ingest.imap.progress import Reporter
    from triage.parallel import InWorkers, Predictor
    from triage.route.routing import RoutingTable
    from triage.watcher import SyncResult

SURVEY_SUFFIXES = (".csv", ".xlsx", ".xlsm")
WORKER_BATCH = 200  # smaller batches when the model runs in other processes: more of them in flight


@dataclass
class SourceResult:
    name: str
    counts: Counts
    error: str | None = None


@dataclass
class JobResult:
    sources: list[SourceResult] = field(default_factory=list)
    classified: dict[str, int] = field(default_factory=dict)  # kind -> count, plus "needs_review"
    cases: dict[str, int] = field(default_factory=dict)  # case links by rule: new, thread, reference, resident

    @property
    def total(self) -> Counts:
        total = Counts()
        for s in self.sources:
            total.add(s.counts)
        return total

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.sources if s.error]


def mail_items(paths: list[Path], channel: str = "email", webform_senders: Iterable[str] = ()) -> Iterator[Item]:
    senders = {s.lower() for s in webform_senders}
    for path in iter_paths(paths):
        for item in read_file(path, channel):
            if senders and isinstance(item, Message) and item.sender_addr in senders:
                item.channel = "webform"
            yield item


def ingest_paths(store: Store, paths: list[Path], run_name: str = "ingest") -> JobResult:
    """``triage ingest``: mail files and folders, each path its own source line."""
    result = JobResult()
    run_id = store.start_run(run_name)
    for path in paths:
        result.sources.append(_ingest_one(store, str(path), run_id, lambda p=path: mail_items([p])))
    store.finish_run(run_id, result.total)
    return result


def run_pipeline(pipeline: Pipeline, store: Store, workers: int = 1, pool: InWorkers | None = None) -> JobResult:
    """``triage run``: every source into the store, then classify what is new. With ``workers``
    above 1, mail files are read and the model is run in that many processes: ``pool``'s, or
    processes started once for the whole job (they load the model while nothing else waits on
    them but the reading)."""
    if workers > 1 and pool is None and any(isinstance(s, FilesSource) for s in pipeline.sources):
        from triage.parallel import worker_predictor

        with worker_predictor(pipeline.model_dir(), workers) as own:
            return run_pipeline(pipeline, store, workers, own)
    result = JobResult()
    run_id = store.start_run(pipeline.pipeline.name)
    loaded: LoadedModel | None = None
    for source in pipeline.sources:
        if isinstance(source, FilesSource):
            paths = [pipeline.resolve(p) for p in source.paths]
            name = ", ".join(source.paths)
            if workers > 1:
                from triage.parallel import ingest_files

                counts, error = ingest_files(
                    store.url, name, paths, source.channel, source.webform_senders, run_id, workers, pool.pool if pool else None
                )
                result.sources.append(_checked(SourceResult(name, counts, error)))
                continue
            result.sources.append(
                _ingest_one(store, name, run_id, lambda paths=paths, s=source: mail_items(paths, s.channel, s.webform_senders))
            )
        elif isinstance(source, SurveySource):
            path = pipeline.resolve(source.path)
            cols = source.columns.to_columns()
            result.sources.append(_ingest_one(store, source.path, run_id, lambda p=path, c=cols: survey_items(p, c)))
        elif isinstance(source, ImapSource):
            if loaded is None:
                loaded = LoadedModel.for_pipeline(pipeline)
            result.sources.append(_imap_backlog(store, source, run_id, loaded, result.classified))
    store.finish_run(run_id, result.total)
    # One model load for the whole job (the mailboxes above may have loaded it already).
    if loaded is None:
        loaded = LoadedModel.for_pipeline(pipeline)
    if loaded is not None:
        _add_counts(result.classified, loaded.classify_store(store, workers, pool))
        result.cases = loaded.cases
    return result


def _add_counts(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def classify_store(
    store: Store,
    model_dir: Path | None,
    table: RoutingTable,
    nation: str = "england",
    batch: int = 500,
    case_rules: CaseRules | None = None,
    cases_out: dict[str, int] | None = None,
    loaded: tuple[TriageModel, dict[str, Any]] | None = None,
    predictor: Predictor | None = None,
) -> dict[str, int]:
    """Classify, route and flag every stored message the model has not yet seen, and put each on
    its case (in the order received, so the case history is complete when a message is read).
    Returns counts by kind; ``cases_out`` receives counts of case links by rule. ``loaded`` is a
    model already loaded (model, sidecar), used instead of ``model_dir``; ``predictor`` runs
    that model elsewhere (``triage run --workers``), batches ahead of the one being stored.

    Another process may classify the same messages at once: a message keeps the classification
    stored first, and only the process that stored it links it and counts it."""
    from collections import deque

    from triage.classify.service import input_from_row, load_model
    from triage.parallel import InProcess

    model, meta = loaded or load_model(model_dir)
    run = predictor or InProcess(model)
    writer = _BatchWriter(store, meta, table, nation, case_rules or CaseRules(), cases_out if cases_out is not None else {})
    while ids := store.unclassified_ids(meta["sha256"]):
        in_flight: deque[tuple[list[dict[str, Any]], Any]] = deque()
        for i, j in _batches(len(ids), batch, run.in_flight):
            rows = store.to_classify(ids[i:j])
            in_flight.append((rows, run.submit([input_from_row(r) for r in rows])))
            while len(in_flight) > run.in_flight:
                rows, pending = in_flight.popleft()
                writer.write(rows, pending.result())
        while in_flight:
            rows, pending = in_flight.popleft()
            writer.write(rows, pending.result())
    return writer.counts


def _batches(n: int, size: int, in_flight: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each batch of ``n`` messages. When batches are predicted in other processes
    (``in_flight`` above 0), the last round is cut in quarter batches, so that the processes
    finish together instead of all but one waiting for the last large batch."""
    i = 0
    while i < n:
        step = size if in_flight == 0 or n - i > size * (in_flight + 1) else max(size // 4, 1)
        yield i, min(i + step, n)
        i += step


@functools.cache
def _set_flags() -> Any:
    """UPDATE a message's classification flags (by this model), for executemany."""
    from sqlalchemy import bindparam, update

    from triage.store.schema import classifications

    c = classifications.c
    return (
        update(classifications)
        .where(c.message_pk == bindparam("pk"), c.model_sha256 == bindparam("sha256"))
        .values(flags=bindparam("all_flags"))
    )


@dataclass
class _BatchWriter:
    """Routes a classified batch, stores it and links it to cases, in one transaction."""

    store: Store
    meta: dict[str, Any]
    table: RoutingTable
    nation: str
    rules: CaseRules
    links: dict[str, int]
    counts: dict[str, int] = field(default_factory=dict)

    def write(self, rows: list[dict[str, Any]], predictions: list[Any]) -> None:
        from triage.store.locks import retry_on_conflict

        routed = [self._route(r, p) for r, p in zip(rows, predictions, strict=True)]
        new = retry_on_conflict(lambda: self._store(rows, predictions, routed))
        for r, p in zip(rows, predictions, strict=True):
            if r["id"] in new:
                self.counts[p.kind] = self.counts.get(p.kind, 0) + 1
                self.counts["needs_review"] = self.counts.get("needs_review", 0) + p.needs_review

    def _route(self, row: dict[str, Any], p: Any) -> dict[str, Any]:
        from triage.route.assign import assign
        from triage.store.db import as_utc

        return assign(p, row["channel"], as_utc(row["received_at"]), self.table, self.nation)

    def _store(self, rows: list[dict[str, Any]], predictions: list[Any], routed: list[dict[str, Any]]) -> set[int]:
        from triage.cases.records import BatchLinker, cases_of_messages
        from triage.store.locks import CASES_LOCK, advisory_lock

        links: dict[str, int] = {}
        with self.store.transaction() as conn:
            # One linker at a time across processes: two workers cannot both open a case for one issue.
            advisory_lock(conn, CASES_LOCK)
            new = self.store.insert_classifications(
                self.meta["name"],
                self.meta["sha256"],
                [(r["id"], {**p.as_dict(), **a}) for r, p, a in zip(rows, predictions, routed, strict=True)],
                conn,
            )
            ours = [r for r in rows if r["id"] in new]  # the others another worker classified and linked meanwhile
            on_case = cases_of_messages(conn, [r["id"] for r in ours])  # classified by an earlier model
            linker = BatchLinker(conn, self.rules, self.nation, ours, on_case)
            flagged = []
            for r, p, a in zip(rows, predictions, routed, strict=True):
                if r["id"] not in new:
                    continue
                link = linker.link(r, p.kind, p.dissatisfied, p.themes, a["on_complaints_register"])
                if link is None:
                    continue
                if link.rule != "already":
                    links[link.rule] = links.get(link.rule, 0) + 1
                if link.flags:
                    flagged.append({"pk": r["id"], "all_flags": a["flags"] + [f.as_dict() for f in link.flags]})
            linker.flush()
            if flagged:
                conn.execute(_set_flags(), [{**f, "sha256": self.meta["sha256"]} for f in flagged])
        _add_counts(self.links, links)  # counted once the transaction has committed (it may be retried)
        return new


class LoadedModel:
    """The model service loaded once, for a job that classifies batch after batch (the IMAP
    watcher): stored messages, or messages in memory for a dry run."""

    def __init__(self, model_dir: Path, table: RoutingTable, nation: str, case_rules: CaseRules | None = None) -> None:
        from triage.classify.service import load_model
        from triage.route.deadlines import load_calendars

        self.model, self.meta = load_model(model_dir)
        load_calendars()  # start-up, with the model: routing's first message would pay it otherwise
        self.model_dir = model_dir
        self.table, self.nation, self.case_rules = table, nation, case_rules
        self.cases: dict[str, int] = {}  # case links by rule, as classify_store counts them
        self._lock = threading.Lock()  # one classifier pass at a time across mailboxes

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline) -> LoadedModel | None:
        if (model_dir := pipeline.model_dir()) is None:
            return None
        from triage.route.routing import load_table

        table = load_table(pipeline.resolve(pipeline.pipeline.routing) if pipeline.pipeline.routing else None)
        return cls(model_dir, table, pipeline.pipeline.nation, pipeline.cases.to_rules())

    def classify_store(self, store: Store, workers: int = 1, pool: InWorkers | None = None) -> dict[str, int]:
        """Classify what is new in the store; with ``workers`` above 1 the model runs in that
        many processes beside this one (``pool``'s, with this model loaded, or new ones)."""
        with self._lock:
            run = functools.partial(
                classify_store,
                store,
                None,
                self.table,
                self.nation,
                case_rules=self.case_rules,
                cases_out=self.cases,
                loaded=(self.model, self.meta),
            )
            if workers <= 1 or not store.unclassified_ids(self.meta["sha256"]):
                return run()
            if pool is not None:
                return run(predictor=pool, batch=WORKER_BATCH)
            from triage.parallel import worker_predictor

            with worker_predictor(self.model_dir, workers) as predictor:
                return run(predictor=predictor, batch=WORKER_BATCH)

    def predict_routes(self, msgs: list[Message]) -> list[dict[str, Any]]:
        from triage.classify.service import input_from_message, predict
        from triage.route.assign import assign

        predictions = predict(self.model, [input_from_message(m) for m in msgs])
        return [
            {**p.as_dict(), **assign(p, m.channel, m.received_at, self.table, self.nation)}
            for m, p in zip(msgs, predictions, strict=True)
        ]


def _imap_backlog(
    store: Store, source: ImapSource, run_id: int, loaded: LoadedModel | None, classified: dict[str, int]
) -> SourceResult:
    """``triage run`` on a mailbox: the backlog once, classified (counts added to ``classified``)
    and acted on, then return."""
    from triage.watcher import Options, sync_source

    try:
        synced = sync_source(source, Options(store, threading.Event(), once=True, run_id=run_id, classifier=loaded))
    except (ImapError, ConfigError) as exc:
        return SourceResult(source.describe(), Counts(), str(exc))
    _add_counts(classified, synced.classified)
    return SourceResult(source.describe(), synced.counts)


def watch_pipeline(
    pipeline: Pipeline,
    store: Store,
    stop: threading.Event,
    *,
    once: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    after_store: Callable[[str, list[int]], None] | None = None,
) -> SyncResult:
    """``triage watch``: keep the pipeline's IMAP mailboxes triaged until ``stop`` is set (or,
    with ``once`` or ``dry_run``, read their backlog and return). Several mailboxes are watched in
    parallel."""
    from triage.watcher import Options, SyncResult, sync_source

    sources = [s for s in pipeline.sources if isinstance(s, ImapSource)]
    if not sources:
        raise ConfigError(
            'the pipeline has no [[sources]] with type = "imap": triage watch reads mailboxes. '
            "Use triage run for files and surveys, or see pipelines/mailbox.toml."
        )
    loaded = LoadedModel.for_pipeline(pipeline)
    once = once or dry_run  # a dry run stores no checkpoint: waiting would only read the same mail again
    run_id = None if dry_run else store.start_run(pipeline.pipeline.name)
    opts = Options(
        store, stop, once=once, dry_run=dry_run, run_id=run_id, classifier=loaded, reporter=reporter, after_store=after_store
    )
    total = SyncResult()
    try:
        if len(sources) == 1:
            total.add(sync_source(sources[0], opts))
        else:
            results: list[SyncResult | BaseException] = [SyncResult() for _ in sources]

            def one(i: int, source: ImapSource) -> None:
                try:
                    results[i] = sync_source(source, opts)
                except BaseException as exc:  # re-raised in the calling thread below
                    results[i] = exc
                    stop.set()

            threads = [threading.Thread(target=one, args=(i, s), daemon=True) for i, s in enumerate(sources)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in results:
                if isinstance(r, BaseException):
                    raise r
                total.add(r)
    finally:
        if run_id is not None:
            store.finish_run(run_id, total.counts)
    return total


def survey_items(path: Path, columns: SurveyColumns) -> Iterator[Item]:
    if not path.exists():
        raise InputError(f"{path}: no such survey export. Check [[sources]] path in the pipeline file.")
    try:
        yield from read_survey(path, columns)
    except InputError as exc:
        # Keep the whole file in quarantine with the reason, then tell the user.
        yield Quarantined(Source("survey", path=str(path)), str(exc), _read_or_empty(path))
        raise


def _read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@contextlib.contextmanager
def _fewer_collections(young: int = 20_000) -> Iterator[None]:
    """Reading mail makes many short-lived containers and almost no reference cycles (what is not
    in a cycle is freed at once, whatever this setting), so the cyclic collector's frequent passes
    over the youngest objects found nothing and took a tenth of ingest time; it runs after
    ``young`` new containers instead of 700 while a source is read."""
    old = gc.get_threshold()
    gc.set_threshold(young, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


class _BatchStorer:
    """Stores batches in order in a thread of its own while the caller reads the next one.

    The database driver lets other threads run while it writes (SQLite's write and the fsync of
    its checkpoints, a PostgreSQL round trip), so reading mail and storing it overlap: on one
    core the checkpoints' disk waits are hidden, with a second core the two run side by side.
    At most one batch waits, so memory stays flat. Batches are stored exactly as
    ``store.add`` stores them, one after another; an error in storing is raised in the caller
    at its next ``add`` or at ``close``. An in-memory SQLite store (one connection per thread)
    is written in the caller's thread."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store, self.run_id = store, run_id
        self.counts = Counts()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if ":memory:" not in store.url:
            self._queue: queue.Queue[list[Item] | None] = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._run, name="triage-store", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:  # after an error, the rest is drained unwritten
                try:
                    self.counts.add(self.store.add(batch, self.run_id))
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def add(self, batch: list[Item]) -> None:
        if self._thread is None:
            self.counts.add(self.store.add(batch, self.run_id))
            return
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until every batch given is stored (or failed)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def _ingest_one(store: Store, name: str, run_id: int, items: object, require_some: bool = True) -> SourceResult:
    result = SourceResult(name, Counts())
    storer = _BatchStorer(store, run_id)
    buffered: list[Item] = []
    try:
        try:
            with _fewer_collections():
                for item in items():  # type: ignore[operator]
                    buffered.append(item)
                    if len(buffered) >= 500:
                        storer.add(buffered)
                        buffered = []
        except InputError as exc:
            result.error = str(exc)
        if buffered:
            storer.add(buffered)
    finally:
        storer.close()  # what was read before an error is stored, as when batches were stored in turn
    result.counts = storer.counts
    return _checked(result) if require_some else result


def _checked(result: SourceResult) -> SourceResult:
    """A source that gave nothing readable is an error that says what triage reads."""
    name = result.name
    if result.error is None and result.counts.stored + result.counts.duplicates == 0:
        held = result.counts.quarantined
        result.error = f"{name}: nothing readable was found there (mail: .eml, .msg, .mbox, Maildir; surveys: rows with text)" + (
            f"; {held} file(s) were quarantined, see `triage quarantine list`." if held else "."
        )
    return result


def retry_quarantined(store: Store, qid: int) -> tuple[bool, str]:
    """Parse a quarantined item again (after a triage upgrade, say). Returns (stored, detail)."""
    row = store.quarantine_item(qid)
    if row is None:
        return False, f"there is no quarantined item {qid}; `triage quarantine list` shows them."
    if row["status"] != "held":
        return False, f"item {qid} was already released into the store as message {row['message_pk']}."
    detail = row["source_detail"] or {}
    source = Source(**{k: v for k, v in detail.items() if k in Source.__slots__})
    raw: bytes = row["raw"]
    item: Item
    if row["source_type"] == "survey":
        return False, "a survey file is retried by running its pipeline again once the column mapping is fixed."
    item = parse_msg(raw, source) if raw.startswith(OLE_MAGIC) else parse_email(raw, source)
    if isinstance(item, Quarantined):
        return False, f"still cannot be read: {item.reason}"
    with store.transaction() as conn:
        counts = store.add_batch(conn, [item], row["run_id"])
        pk = store.message_pk_for(conn, item.sha256, item.message_id)
        store.release(conn, qid, pk)
    what = "stored" if counts.stored else "already in the store"
    return True, f"item {qid} read as a message and {what} (message {pk})."


def summary_json(result: JobResult) -> str:
    total = result.total.as_dict()
    total["errors"] = result.errors
    total["sources"] = [{"source": s.name, **s.counts.as_dict(), "error": s.error} for s in result.sources]
    total["classified"] = result.classified
    total["cases"] = result.cases
    return json.dumps(total, indent=None)
