"""The mailbox job. Keep a mailbox triaged: read each folder's backlog in batches, store, classify, then update
the mailbox; wait for new mail with IDLE (or poll); reconnect with capped exponential backoff.

One batch is: UID FETCH of ``batch_size`` messages with BODY.PEEK[] (so \\Seen is never set
by reading), parse, then one store transaction holding the messages, the actions due for them
and the folder's new checkpoint. Classification and mailbox actions follow the commit; the
actions are recorded in the transaction, so a crash between the commit and the mailbox update
is made good on the next run.
"""

from __future__ import annotations

import imaplib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from imapclient import IMAPClient
from sqlalchemy.exc import SQLAlchemyError

from triage.errors import ImapError
from triage.ingest.email_parse import parse_email
from triage.ingest.imap import checkpoint, lease
from triage.ingest.imap.client import CONNECTION_ERRORS, Backoff, connect, logout
from triage.ingest.imap.config import ImapSource
from triage.ingest.imap.progress import Reporter
from triage.message import Message, Quarantined, Source
from triage.store.db import Counts, Store
from triage.writeback import actions, drafts

log = logging.getLogger("triage.imap")


class Classifier(Protocol):
    """The model service as the watcher uses it (``triage.jobs.LoadedModel``)."""

    nation: str

    def classify_store(self, store: Store) -> dict[str, int]: ...
    def predict_routes(self, msgs: list[Message]) -> list[dict[str, Any]]: ...


@dataclass
class SyncResult:
    counts: Counts = field(default_factory=Counts)
    actions: actions.ActionCounts = field(default_factory=actions.ActionCounts)
    classified: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    plans: list[str] = field(default_factory=list)  # --dry-run: what would have been done

    def add(self, other: SyncResult) -> None:
        self.counts.add(other.counts)
        self.actions.add(other.actions)
        for k, v in other.classified.items():
            self.classified[k] = self.classified.get(k, 0) + v
        self.reconnects += other.reconnects
        self.plans += other.plans


@dataclass
class Options:
    store: Store
    stop: threading.Event
    once: bool = False
    dry_run: bool = False
    run_id: int | None = None
    classifier: Classifier | None = None
    reporter: Reporter | None = None
    # Test seam: called after a batch is committed, before the mailbox is updated.
    after_store: Callable[[str, list[int]], None] | None = None
    holder: str = field(default_factory=lease.new_holder)  # this watcher, in the folders' leases


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C: the watcher finishes the current message and exits."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("%s received: finishing the current message, then stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def sync_source(source: ImapSource, opts: Options) -> SyncResult:
    """Read one mailbox: the backlog (``once``) or the backlog then new mail until ``stop``."""
    result = SyncResult()
    where = f"{source.host}:{source.server_port}"
    backoff = Backoff(source.backoff_seconds, source.backoff_max_seconds)
    failures = 0
    while not opts.stop.is_set():
        client: IMAPClient | None = None
        try:
            client = connect(source)
            if failures:
                log.info("reconnected to %s after %d failed attempt(s)", where, failures)
            _session(client, source, opts, result, backoff)
            return result
        except CONNECTION_ERRORS as exc:
            failures += 1
            if opts.once and failures > source.run_retries:
                raise ImapError(
                    f"{where}: could not reach the IMAP server after {failures} attempts ({exc}). "
                    "Check that it is running and the host, port and tls settings; the next run resumes where this one stopped."
                ) from exc
            delay = backoff.next_delay()
            result.reconnects += 1
            log.warning(
                "connection to %s failed or was lost (%s); reconnecting in %.1f s (attempt %d)", where, exc, delay, failures
            )
            opts.stop.wait(delay)
        except imaplib.IMAP4.error as exc:
            raise ImapError(
                f"{where}: the IMAP server answered: {exc}. Check the folder names and the account's rights."
            ) from exc
        finally:
            if client is not None:
                logout(client)
    return result


def _session(client: IMAPClient, source: ImapSource, opts: Options, result: SyncResult, backoff: Backoff) -> None:
    delimiter = _delimiter(client)
    while True:
        read = 0
        for folder in source.folders:
            if opts.stop.is_set():
                return
            read += _sync_folder(client, source, folder, delimiter, opts, result)
            backoff.reset()
        if opts.once or opts.stop.is_set():
            return
        if read:
            _wait_for_mail(client, source, opts)
        else:  # standing by: another watcher reads every folder; look again at the next poll
            opts.stop.wait(source.poll_seconds)


def _delimiter(client: IMAPClient) -> str:
    listing = client.list_folders("", "")
    delim = listing[0][1] if listing else b"/"
    return delim.decode() if isinstance(delim, bytes) else (delim or "/")


def _last_uid(store: Store, mailbox: str, folder: str, dry_run: bool) -> checkpoint.Checkpoint | None:
    try:
        return checkpoint.read(store, mailbox, folder)
    except SQLAlchemyError:
        if dry_run:  # a store made before IMAP support, opened without upgrading
            return None
        raise


def _sync_folder(client: IMAPClient, source: ImapSource, folder: str, delimiter: str, opts: Options, result: SyncResult) -> bool:
    """Read one folder while holding its lease; another watcher holding it means stand by
    (``--once``: wait for it, then read what is left). False when this watcher stood by."""
    if opts.dry_run:
        _read_folder(client, source, folder, delimiter, opts, result)
        return True
    mailbox, ttl = source.mailbox, lease.ttl_for(source.poll_seconds)
    while not lease.take(opts.store, mailbox, folder, opts.holder, ttl):
        if not opts.once:
            log.info(
                "%s/%s: another watcher (%s) reads this folder; standing by",
                mailbox,
                folder,
                lease.holder_of(opts.store, mailbox, folder),
            )
            return False
        if opts.stop.wait(0.5):
            return False
    try:
        _read_folder(client, source, folder, delimiter, opts, result)
    except lease.LeaseLost:
        log.warning("%s/%s: another watcher took over this folder (this one was too slow to renew); standing by", mailbox, folder)
        return False
    finally:
        if opts.once or opts.stop.is_set():
            lease.release(opts.store, mailbox, folder, opts.holder)
    return True


def _read_folder(client: IMAPClient, source: ImapSource, folder: str, delimiter: str, opts: Options, result: SyncResult) -> None:
    mailbox = source.mailbox
    if not client.folder_exists(folder):
        raise ImapError(f"{source.describe()}: there is no folder {folder!r} on the server. Fix folders in the pipeline file.")
    info = client.select_folder(folder, readonly=opts.dry_run)  # EXAMINE for a dry run: nothing can change
    uidvalidity = int(info[b"UIDVALIDITY"])  # type: ignore[call-overload]
    keywords_ok = actions.keywords_allowed(info)
    if source.on_stored.keywords and not keywords_ok:
        log.warning(
            "%s/%s: the server does not let clients add keywords here (PERMANENTFLAGS has no \\*): "
            "messages are stored, moved and marked as configured, but get no triage: keywords",
            mailbox,
            folder,
        )
    cp = _last_uid(opts.store, mailbox, folder, opts.dry_run)
    last = 0
    if cp is not None and cp.uidvalidity != uidvalidity:
        log.warning(
            "%s/%s: UIDVALIDITY changed from %d to %d (the folder was recreated or rebuilt): reading it again from the start; "
            "messages already in the store are recognised by content and Message-ID and not stored twice",
            mailbox,
            folder,
            cp.uidvalidity,
            uidvalidity,
        )
        if not opts.dry_run:
            with opts.store.transaction() as conn:
                checkpoint.forget_pending(conn, mailbox, folder, uidvalidity)
                checkpoint.save(conn, mailbox, folder, checkpoint.Checkpoint(uidvalidity, 0))
    elif cp is not None:
        last = cp.last_uid
    if not opts.dry_run:
        # Mail stored before a crash may not be classified yet: classify it first, so the
        # leftover keywords and moves are the right ones.
        _classify(opts, result)
        _apply_pending(client, source, folder, uidvalidity, delimiter, keywords_ok, opts, result)
    uids = _new_uids(client, last)
    if not uids:
        return
    reporter = opts.reporter
    if reporter:
        reporter.start(f"{mailbox}/{folder}", len(uids))
    try:
        for chunk in _batched(uids, source.batch_size):
            if opts.stop.is_set():
                break
            done = _sync_batch(client, source, folder, uidvalidity, delimiter, keywords_ok, chunk, opts, result)
            if reporter:
                reporter.advance(len(done))
    finally:
        if reporter:
            reporter.finish()


def _new_uids(client: IMAPClient, last: int) -> list[int]:
    # "n:*" always matches the highest UID even when it is below n: filter.
    return sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)


def _batched(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _sync_batch(
    client: IMAPClient,
    source: ImapSource,
    folder: str,
    uidvalidity: int,
    delimiter: str,
    keywords_ok: bool,
    chunk: list[int],
    opts: Options,
    result: SyncResult,
) -> list[int]:
    fetched = client.fetch(chunk, [b"BODY.PEEK[]"])
    _fetch_missing(client, source, folder, chunk, fetched)
    items: list[tuple[int, Message | Quarantined]] = []
    done: list[int] = []
    for uid in chunk:
        done.append(uid)
        data = fetched.get(uid)
        if data is not None:  # None: expunged by someone else since the search (logged)
            raw = data.get(b"BODY[]") or b""
            where = Source("imap", mailbox=source.mailbox, folder=folder, uid=uid, uidvalidity=uidvalidity)
            items.append((uid, parse_email(bytes(raw), where, source.channel)))
        if opts.stop.is_set():  # finish this message, store what is read, then stop
            break
    if opts.dry_run:
        _plan(source, items, delimiter, opts, result)
        return done
    with opts.store.transaction() as conn:
        if not lease.hold(conn, source.mailbox, folder, opts.holder, lease.ttl_for(source.poll_seconds)):
            raise lease.LeaseLost(folder)
        msgs = [m for _, m in items if isinstance(m, Message)]
        new_shas = {m.sha256 for m in opts.store.new_messages(conn, msgs)}
        counts = opts.store.add_batch(conn, [m for _, m in items], opts.run_id)
        if _wants_actions(source):
            checkpoint.add_pending(conn, source.mailbox, folder, uidvalidity, items, new_shas)
        checkpoint.save(conn, source.mailbox, folder, checkpoint.Checkpoint(uidvalidity, done[-1]))
    result.counts.add(counts)
    for problem in counts.problems:
        log.warning("quarantined (left in the mailbox): %s", problem)
    if opts.after_store is not None:
        opts.after_store(folder, done)
    _classify(opts, result)
    _apply_pending(client, source, folder, uidvalidity, delimiter, keywords_ok, opts, result)
    return done


def _classify(opts: Options, result: SyncResult) -> None:
    if opts.classifier is not None:
        for k, v in opts.classifier.classify_store(opts.store).items():
            result.classified[k] = result.classified.get(k, 0) + v


def _fetch_missing(client: IMAPClient, source: ImapSource, folder: str, chunk: list[int], fetched: dict) -> None:
    """A UID the FETCH reply left out: fetched again if the folder still has it, so a short reply
    never moves the checkpoint past a message unread. Each skip is logged (UID only)."""
    missing = [u for u in chunk if u not in fetched]
    if not missing:
        return
    still = set(client.search(["UID", ",".join(map(str, missing))])) & set(missing)
    if still:
        fetched.update(client.fetch(sorted(still), [b"BODY.PEEK[]"]))
    for uid in missing:
        if uid in fetched:
            continue
        if uid in still:
            log.warning(
                "%s/%s: UID %d is in the folder but the server twice returned no content for it; skipped: check it there",
                source.mailbox,
                folder,
                uid,
            )
        else:
            log.info("%s/%s: UID %d was removed by another client before it could be read", source.mailbox, folder, uid)


def _wants_actions(source: ImapSource) -> bool:
    s = source.on_stored
    return bool(s.keywords or s.move_to or s.mark_seen or source.quarantine_folder or source.drafts.enabled)


def _apply_pending(
    client: IMAPClient,
    source: ImapSource,
    folder: str,
    uidvalidity: int,
    delimiter: str,
    keywords_ok: bool,
    opts: Options,
    result: SyncResult,
) -> None:
    items = checkpoint.pending(opts.store, source.mailbox, folder, uidvalidity)
    if not items:
        return
    if not lease.take(opts.store, source.mailbox, folder, opts.holder, lease.ttl_for(source.poll_seconds)):
        raise lease.LeaseLost(folder)
    nation = opts.classifier.nation if opts.classifier is not None else "england"
    if source.drafts.enabled:
        # Drafts first: a moved message must still be readable for its draft's facts (they come from the store).
        result.actions.drafts += drafts.write_all(client, source, items, delimiter, nation)
        client.select_folder(folder)
    result.actions.add(actions.apply(client, source, folder, items, delimiter, keywords_ok))
    checkpoint.done(opts.store, [p.id for p in items])


def _plan(
    source: ImapSource, items: list[tuple[int, Message | Quarantined]], delimiter: str, opts: Options, result: SyncResult
) -> None:
    """--dry-run: say what would be stored and done, change nothing."""
    msgs = [m for _, m in items if isinstance(m, Message)]
    try:
        with opts.store.engine.connect() as conn:
            fresh = {m.sha256 for m in opts.store.new_messages(conn, msgs)}
    except SQLAlchemyError:
        fresh = {m.sha256 for m in msgs}
    routes = iter(opts.classifier.predict_routes(msgs)) if opts.classifier is not None and msgs else iter(())
    result.counts.seen += len(items)
    for uid, item in items:
        p = checkpoint.Pending(0, uid, isinstance(item, Quarantined), item.sha256 in fresh, None)
        if isinstance(item, Quarantined):
            result.counts.quarantined += 1
            what = f"quarantine ({item.reason})"
        else:
            if p.new:
                result.counts.stored += 1
            else:
                result.counts.duplicates += 1
            route = next(routes, None)
            if route is not None:
                p.kind, p.queue, p.needs_review = route["kind"], route["queue"], route["needs_review"]
            what = ("store" if p.new else "already stored") + (f" as {p.kind} for {p.queue!r}" if p.kind else "")
        keywords, dest = actions.plan(source, p, delimiter)
        todo = [what]
        if keywords:
            todo.append("add keywords " + " ".join(keywords))
        if source.on_stored.mark_seen and not p.quarantined:
            todo.append("mark \\Seen")
        if dest:
            todo.append(f"move to {dest}")
        if source.drafts.enabled and p.new and p.kind == "complaint":
            todo.append(f"write an acknowledgement draft in {source.drafts.folder}")
        result.plans.append(f"{source.mailbox}/{_folder_of(item)} UID {uid}: " + "; ".join(todo))


def _folder_of(item: Message | Quarantined) -> str:
    return item.source.folder


def _wait_for_mail(client: IMAPClient, source: ImapSource, opts: Options) -> None:
    """IDLE on the first folder until the server reports a change, ``poll_seconds`` pass, or stop."""
    folder = source.folders[0]
    client.select_folder(folder, readonly=opts.dry_run)
    cp = None if opts.dry_run else checkpoint.read(opts.store, source.mailbox, folder)
    if cp is not None and _new_uids(client, cp.last_uid):
        return  # mail arrived between the last read and now
    if not (source.idle and client.has_capability("IDLE")):
        opts.stop.wait(source.poll_seconds)
        return
    client.idle()
    try:
        until = time.monotonic() + source.poll_seconds
        while time.monotonic() < until and not opts.stop.is_set():
            responses = client.idle_check(timeout=1)
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                return
    finally:
        client.idle_done()
