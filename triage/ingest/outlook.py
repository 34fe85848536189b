"""Outlook ``.msg`` files (OLE compound documents) to a Message, with extract-msg.

The raw bytes kept are the .msg file itself. Where Outlook saved the transport headers we read
the Message-ID, threading and automatic-mail headers from them, as for any email.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import re
from datetime import UTC, datetime

from triage.ingest import automail
from triage.ingest.email_parse import MESSAGE_ID, decode_bytes, decode_header
from triage.ingest.html_text import html_to_text
from triage.ingest.replies import split_body
from triage.message import Attachment, Message, Quarantined, Source

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_RECIPIENT_SPLIT = re.compile(r";\s*")

# extract-msg logs every unusual property at WARNING; a problem that matters reaches the user
# as a quarantine reason instead.
logging.getLogger("extract_msg").setLevel(logging.ERROR)


def parse_msg(raw: bytes, source: Source, channel: str = "email") -> Message | Quarantined:
    try:
        import extract_msg
    except ImportError:  # pragma: no cover - it is a core dependency
        return Quarantined(source, "Outlook .msg support needs extract-msg: pip install extract-msg", raw)
    try:
        msg = extract_msg.openMsg(raw, delayAttachments=False, strict=False)
    except Exception as exc:
        return Quarantined(source, f"not a readable Outlook .msg file ({exc.__class__.__name__}: {exc})", raw)
    try:
        return _to_message(msg, raw, source, channel)
    except Exception as exc:
        return Quarantined(source, f"Outlook .msg could not be read ({exc.__class__.__name__}: {exc})", raw)
    finally:
        with contextlib.suppress(Exception):
            msg.close()


def _attr(obj: object, name: str) -> object:
    try:
        return getattr(obj, name, None)
    except Exception:  # extract-msg computes many attributes lazily and may raise
        return None


def _to_message(msg: object, raw: bytes, source: Source, channel: str) -> Message:
    headers = _attr(msg, "header")

    def raw_get(name: str) -> str:
        return decode_header(headers.get(name, "")) if headers is not None else ""

    def get(name: str) -> str:
        return raw_get(name).lower()

    sender_name, sender_addr = email.utils.parseaddr(decode_header(_attr(msg, "sender") or ""))
    recipients = [r.strip() for field in ("to", "cc") for r in _RECIPIENT_SPLIT.split(str(_attr(msg, field) or "")) if r.strip()]
    received = _attr(msg, "date")
    if isinstance(received, datetime):
        received = received.replace(tzinfo=UTC) if received.tzinfo is None else received.astimezone(UTC)
    else:
        received = None
    body = _attr(msg, "body")
    body_format = "plain"
    if not (isinstance(body, str) and body.strip()):
        html = _attr(msg, "htmlBody")
        body = html_to_text(decode_bytes(html, "utf-8") if isinstance(html, bytes) else str(html or ""))
        body_format = "html"
    parts = split_body(body or "")
    attachments = []
    for att in _attr(msg, "attachments") or []:
        data = _attr(att, "data")
        content = data if isinstance(data, bytes) else b""
        name = _attr(att, "longFilename") or _attr(att, "shortFilename") or _attr(att, "name") or "unnamed"
        ctype = _attr(att, "mimetype") or (
            "application/vnd.ms-outlook" if data is not None and not content else "application/octet-stream"
        )
        attachments.append(Attachment(str(name), str(ctype), len(content), content))
    message_id = MESSAGE_ID.search(decode_header(_attr(msg, "messageId") or ""))
    in_reply_to = MESSAGE_ID.search(raw_get("in-reply-to"))
    automated = automail.detect(get, (get("content-type").split(";")[0].strip() or "text/plain"), "")
    return Message(
        source=source,
        channel=channel,
        raw=raw,
        received_at=received,
        sender_name=sender_name.strip(),
        sender_addr=sender_addr.strip().lower(),
        recipients=recipients,
        subject=decode_header(_attr(msg, "subject") or ""),
        message_id=message_id.group(0) if message_id else None,
        in_reply_to=in_reply_to.group(0) if in_reply_to else None,
        references=MESSAGE_ID.findall(raw_get("references")),
        body_new=parts.new,
        body_quoted=parts.quoted,
        body_signature=parts.signature,
        body_format=body_format,
        attachments=attachments,
        automated=automated[0] if automated else None,
        automated_reason=automated[1] if automated else "",
    )
