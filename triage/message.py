"""The message record: one inbound item (an email, a survey answer or a web-form entry).

It carries everything a complaints officer must be able to show later (Code 5.12, a full
record): where it came from, who sent it and when, the new text apart from the quoted thread
and the signature, the attachments, and the raw bytes exactly as received.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


@dataclass(slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)


@dataclass(slots=True)
class Source:
    """Where a message came from, precisely enough to find it again.

    ``type`` is ``file`` (``path``, plus ``index`` inside an mbox), ``imap``
    (``mailbox``, ``folder``, ``uid``, ``uidvalidity``) or ``survey`` (``path``, ``row``).
    """

    type: str
    path: str = ""
    index: int | None = None
    mailbox: str = ""
    folder: str = ""
    uid: int | None = None
    uidvalidity: int | None = None
    row: int | None = None

    def describe(self) -> str:
        if self.type == "imap":
            return f"imap://{self.mailbox}/{self.folder};UIDVALIDITY={self.uidvalidity}/;UID={self.uid}"
        if self.type == "survey":
            return f"{self.path} row {self.row}"
        if self.index is not None:
            return f"{self.path} message {self.index}"
        return self.path

    def as_dict(self) -> dict[str, object]:
        return {k: v for k in self.__slots__ if (v := getattr(self, k)) not in (None, "")}


@dataclass(slots=True)
class Message:
    source: Source
    channel: str
    raw: bytes = field(repr=False)
    received_at: datetime | None = None
    sender_name: str = ""
    sender_addr: str = ""
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body_new: str = ""
    body_quoted: str = ""
    body_signature: str = ""
    body_format: str = "plain"
    attachments: list[Attachment] = field(default_factory=list)
    automated: str | None = None
    automated_reason: str = ""
    respondent_ref: str = ""
    defects: list[str] = field(default_factory=list)
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.raw).hexdigest()

    @property
    def received_uk(self) -> datetime | None:
        """The received time in UK local time, as it is shown to people."""
        return self.received_at.astimezone(UK) if self.received_at else None

    @property
    def text(self) -> str:
        """The whole body as written: new text, quoted thread and signature."""
        return "\n\n".join(p for p in (self.body_new, self.body_signature, self.body_quoted) if p)


@dataclass(slots=True)
class Quarantined:
    """An item that could not be read as a message: kept whole, with the reason."""

    source: Source
    reason: str
    raw: bytes = field(repr=False)
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            # Unreadable files have no bytes: key them by where they are instead.
            key = self.raw or b"unreadable:" + self.source.describe().encode("utf-8", "replace")
            self.sha256 = hashlib.sha256(key).hexdigest()
