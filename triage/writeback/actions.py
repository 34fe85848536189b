"""What triage does to a message in the mailbox once it is stored: keywords, a move to a
per-queue folder, \\Seen if configured, a quarantine folder for unreadable mail.

Never delete, never expunge. A move uses the MOVE command (RFC 6851) when the server has it;
without MOVE a move is a COPY only and the original stays where it was, because the other way
(COPY, then \\Deleted and EXPUNGE) deletes mail.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

from imapclient import IMAPClient

from triage.ingest.imap.checkpoint import Pending
from triage.ingest.imap.config import ImapSource

log = logging.getLogger("triage.imap")

KEYWORD_PREFIX = "triage:"
_NOT_ATOM = re.compile(r"[^a-z0-9_.-]+")


@dataclass
class ActionCounts:
    keywords: int = 0
    moved: int = 0
    copied: int = 0
    seen: int = 0
    drafts: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: ActionCounts) -> None:
        self.keywords += other.keywords
        self.moved += other.moved
        self.copied += other.copied
        self.seen += other.seen
        self.drafts += other.drafts
        self.notes += other.notes

    def as_dict(self) -> dict[str, int]:
        return {
            "keywords": self.keywords,
            "moved": self.moved,
            "copied": self.copied,
            "marked_seen": self.seen,
            "drafts": self.drafts,
        }


def slug(text: str) -> str:
    """A keyword-safe form: 'Repairs and Maintenance' -> 'repairs-and-maintenance'."""
    return _NOT_ATOM.sub("-", text.lower()).strip("-") or "none"


def keywords_for(p: Pending) -> list[str]:
    """IMAP keywords from the classification: triage:<kind>, triage:<queue>, triage:needs-review."""
    if p.quarantined:
        return [KEYWORD_PREFIX + "quarantined"]
    out = []
    if p.kind:
        out.append(KEYWORD_PREFIX + p.kind)
    if p.queue:
        out.append(KEYWORD_PREFIX + slug(p.queue))
    if p.needs_review:
        out.append(KEYWORD_PREFIX + "needs-review")
    return out


def folder_for(template: str, queue: str, delimiter: str) -> str:
    """The destination folder: '/' in the template separates levels; the queue name may not."""
    name = queue.replace("/", "-").replace(delimiter, "-") if delimiter else queue
    return template.replace("{queue}", name).replace("/", delimiter or "/")


def plan(source: ImapSource, p: Pending, delimiter: str) -> tuple[list[str], str | None]:
    """(keywords to add, folder to move to) for one stored message."""
    keywords = keywords_for(p) if source.on_stored.keywords else []
    dest = None
    if p.quarantined:
        dest = source.quarantine_folder.replace("/", delimiter or "/") if source.quarantine_folder else None
    elif source.on_stored.move_to and p.queue:
        dest = folder_for(source.on_stored.move_to, p.queue, delimiter)
    return keywords, dest


def keywords_allowed(select_info: dict[bytes, object]) -> bool:
    """A server lets a client create keywords when PERMANENTFLAGS contains \\*."""
    flags = select_info.get(b"PERMANENTFLAGS") or ()
    return b"\\*" in flags  # type: ignore[operator]


def apply(
    client: IMAPClient, source: ImapSource, folder: str, items: list[Pending], delimiter: str, keywords_ok: bool
) -> ActionCounts:
    """Apply keywords, \\Seen and moves to messages in the selected folder (keywords first, so
    they travel with a moved message)."""
    counts = ActionCounts()
    by_keywords: dict[tuple[str, ...], list[int]] = defaultdict(list)
    by_dest: dict[str, list[int]] = defaultdict(list)
    for p in items:
        keywords, dest = plan(source, p, delimiter)
        if keywords and keywords_ok:
            by_keywords[tuple(keywords)].append(p.uid)
        if dest:
            by_dest[dest].append(p.uid)
    for keywords, uids in by_keywords.items():
        client.add_flags(uids, [k.encode() for k in keywords], silent=True)
        counts.keywords += len(uids)
    if source.on_stored.mark_seen:
        uids = [p.uid for p in items if not p.quarantined]
        if uids:
            client.add_flags(uids, [b"\\Seen"], silent=True)
            counts.seen += len(uids)
    can_move = client.has_capability("MOVE")
    for dest, uids in by_dest.items():
        ensure_folder(client, dest)
        if can_move:
            client.move(uids, dest)
            counts.moved += len(uids)
        else:
            client.copy(uids, dest)  # the original stays: a move without MOVE would need a delete
            counts.copied += len(uids)
    return counts


def ensure_folder(client: IMAPClient, name: str) -> None:
    if not client.folder_exists(name):
        log.info("creating folder %s", name)
        client.create_folder(name)
        with contextlib.suppress(client.Error):
            client.subscribe_folder(name)
