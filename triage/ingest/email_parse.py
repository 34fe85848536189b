"""Raw RFC 5322 bytes to a Message.

We parse with the standard library's ``compat32`` policy and decode headers ourselves: on
this hardware that is about 4x faster than ``policy.default`` (which re-parses Content-Type on
every call), and it is more forgiving of broken mail. Broken MIME is read as far as it goes;
what the parser noticed is kept in ``Message.defects``.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from datetime import UTC, datetime
from email.message import Message as MimeMessage

from triage.ingest import automail
from triage.ingest.html_text import html_to_text
from triage.ingest.mime_fast import content_charset
from triage.ingest.mime_parse import message_from_bytes
from triage.ingest.replies import split_body
from triage.message import Attachment, Message, Quarantined, Source

# Charset labels seen in real mail that Python does not know, or knows by a narrower name.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "default": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.MULTILINE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RECEIVED_DATE = re.compile(r";\s*([^;]+)$")
# One plain address, bare or after a name of plain words: what most mail has in From, To and Cc,
# and what email.utils.getaddresses (a character-by-character parser) reads the same way.
_PLAIN_ADDR = r"[A-Za-z0-9_%+=-]+(?:\.[A-Za-z0-9_%+=-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_ONE_ADDRESS = re.compile(rf"(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) <({_PLAIN_ADDR})>|({_PLAIN_ADDR}))")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back to UTF-8 then Windows-1252."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if name == "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    try:
        return data.decode(name, errors="replace")
    except LookupError:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")


def decode_header(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit bytes guessed, controls dropped."""
    if not value:  # absent (most of the headers automail.detect asks for)
        return ""
    text = str(value)
    if not text.isascii() and any("\udc80" <= ch <= "\udcff" for ch in text):  # 8-bit bytes kept as surrogates by compat32
        text = decode_bytes(text.encode("ascii", "surrogateescape"), "utf-8")
    if "=?" in text and _ENCODED_WORD.search(text):
        try:
            parts = email.header.decode_header(text)
        except Exception:
            parts = []  # keep the undecoded text rather than lose the header
        if parts:
            try:  # make_header keeps RFC 2047's spacing rules between encoded and plain words
                text = str(email.header.make_header(parts))
            except (LookupError, UnicodeDecodeError):  # unknown or lying charset: decode leniently
                text = " ".join(decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in parts)
    text = text.replace("\r", "").replace("\n", " ")
    if not text.isprintable():  # only then can it hold a control character
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def _raw_header(msg: MimeMessage, name: str) -> str:
    for key, value in msg._headers:  # raw (name, value) pairs: never raises on bad encodings
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return ""


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _received_time(msg: MimeMessage, date_header: str) -> datetime | None:
    """When the landlord's server received it (top Received header), else the Date header
    (``date_header``, decoded)."""
    for key, value in msg._headers:
        if key.lower() == "received":
            match = _RECEIVED_DATE.search(" ".join(str(value).split()))
            if match and (dt := _parse_date(match.group(1))):
                return dt
            break
    return _parse_date(date_header)


def _addresses(value: str) -> list[tuple[str, str]]:
    if not value:
        return []
    if plain := _ONE_ADDRESS.fullmatch(value):
        return [(plain.group(1), plain.group(2))] if plain.group(2) else [("", plain.group(3))]
    try:
        return [(n, a) for n, a in email.utils.getaddresses([value]) if a or n]
    except Exception:
        return [("", value)]


def _may_hold(part: MimeMessage, name: str, header: str = "content-type") -> bool:
    """False when the header cannot hold the parameter ``name`` (the standard library compares
    parameter names lower-cased, so a header holding it has ``name`` in it lower-cased). Then its
    parse of the header, repeated on every call and a tenth of reading a message, is skipped."""
    return name in _raw_header(part, header).lower()


def _has_filename(part: MimeMessage) -> bool:
    """``bool(part.get_filename())``, without the parse where no header names a parameter with
    "name" in it (get_filename reads Content-Disposition's filename, then Content-Type's name)."""
    return (_may_hold(part, "name", "content-disposition") or _may_hold(part, "name")) and bool(part.get_filename())


def _is_attachment(part: MimeMessage) -> bool:
    disposition = _raw_header(part, "content-disposition").lower()
    return disposition.startswith("attachment") or (not disposition.startswith("inline") and _has_filename(part))


def _part_text(part: MimeMessage, defects: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # malformed transfer encoding
        defects.append(f"undecodable body part ({exc.__class__.__name__})")
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return decode_bytes(payload, content_charset(part) if _may_hold(part, "charset") else None)


def _filename(part: MimeMessage) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return decode_header(name) if name else ""


def _extract(msg: MimeMessage, defects: list[str]) -> tuple[str, str, list[Attachment]]:
    """Return (text, format, attachments): the first readable body, preferring text/plain."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            # A message forwarded whole: its parts come through walk() too, so its text is still
            # read; the forwarded message is also kept as an attachment.
            inner = part.get_payload()
            body = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            attachments.append(Attachment(_filename(part) or "forwarded-message.eml", "message/rfc822", len(body), body))
            continue
        if part.is_multipart() or (ctype.startswith("message/") and ctype != "message/delivery-status"):
            continue
        if _is_attachment(part) or not (ctype.startswith("text/") or ctype == "message/delivery-status"):
            try:
                content = part.get_payload(decode=True) or b""
            except Exception:
                content = b""
            attachments.append(Attachment(_filename(part) or f"unnamed.{ctype.split('/')[-1]}", ctype, len(content), content))
            continue
        if ctype == "text/html":
            if html is None:
                html = _part_text(part, defects)
        elif plain is None:  # text/plain, text/enriched, other text/*, a delivery-status report
            plain = _part_text(part, defects)
    if plain is not None and plain.strip():
        return plain, "plain", attachments
    if html is not None:
        return html_to_text(html), "html", attachments
    return plain or "", "plain", attachments


def _header_start(raw: bytes) -> int:
    """Offset where the header lines begin, skipping leading blank space and an mbox
    "From " envelope line; -1 when the bytes do not start with headers at all."""
    stripped = raw.lstrip()
    offset = len(raw) - len(stripped)
    if stripped.startswith(b"From "):
        newline = stripped.find(b"\n")
        if newline < 0:
            return -1
        offset += newline + 1
    return offset if _HEADER_LINE.match(raw, offset) else -1


def looks_like_email(raw: bytes) -> bool:
    return _header_start(raw) >= 0


def parse_email(raw: bytes, source: Source, channel: str = "email") -> Message | Quarantined:
    """Parse one message. Never raises: what cannot be read is quarantined with a reason."""
    if not raw.strip():
        return Quarantined(source, "empty file: there is no message in it", raw)
    start = _header_start(raw)
    if start < 0:
        return Quarantined(
            source,
            "not an email message: the file does not start with header lines such as 'From:' or "
            "'Subject:'. If it is mail, save it from the mail client as .eml, .msg or .mbox.",
            raw,
        )
    try:
        msg = message_from_bytes(raw[start:] if start else raw)
        return _to_message(msg, raw, source, channel)
    except Exception as exc:  # the last line of defence: keep the bytes and the reason
        return Quarantined(source, f"could not be parsed as email ({exc.__class__.__name__}: {exc})", raw)


class _Headers:
    """A message's headers by name, each decoded once: the first value of each, as
    :func:`_raw_header` reads it."""

    def __init__(self, msg: MimeMessage) -> None:
        self._raw: dict[str, str] = {}
        for key, value in msg._headers:
            self._raw.setdefault(key.lower(), value if isinstance(value, str) else str(value))
        self._decoded: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if (text := self._decoded.get(name)) is None:
            text = self._decoded[name] = decode_header(self._raw.get(name, ""))
        return text


def _to_message(msg: MimeMessage, raw: bytes, source: Source, channel: str) -> Message:
    defects = sorted(
        {d.__class__.__name__ for d in msg.defects}
        | {d.__class__.__name__ for p in msg.walk() for d in getattr(p, "defects", [])}
    )
    header = _Headers(msg)
    get = lambda name: header(name).lower()  # noqa: E731
    from_list = _addresses(header("from"))
    sender_name, sender_addr = from_list[0] if from_list else ("", "")
    recipients = [email.utils.formataddr((n, a)) if n else a for field in ("to", "cc") for n, a in _addresses(header(field))]
    message_id = MESSAGE_ID.search(header("message-id"))
    in_reply_to = MESSAGE_ID.search(header("in-reply-to"))
    references = MESSAGE_ID.findall(header("references"))
    text, body_format, attachments = _extract(msg, defects)
    parts = split_body(text)
    automated = automail.detect(
        get, msg.get_content_type(), ((msg.get_param("report-type") if _may_hold(msg, "report-type") else None) or "").lower()
    )
    return Message(
        source=source,
        channel=channel,
        raw=raw,
        received_at=_received_time(msg, header("date")),
        sender_name=sender_name.strip(),
        sender_addr=sender_addr.strip().lower(),
        recipients=recipients,
        subject=header("subject"),
        message_id=message_id.group(0) if message_id else None,
        in_reply_to=in_reply_to.group(0) if in_reply_to else None,
        references=references,
        body_new=parts.new,
        body_quoted=parts.quoted,
        body_signature=parts.signature,
        body_format=body_format,
        attachments=attachments,
        automated=automated[0] if automated else None,
        automated_reason=automated[1] if automated else "",
        defects=defects,
    )
