"""Well-formed MIME read with string searches: the tree the standard library's parser builds.

The standard library's feed parser reads a message one line at a time in Python, and that loop
was the largest cost of ingest (about 40% of a run without a model). Most mail is well formed:
header blocks that end in a blank line, multipart bodies whose boundaries are all opened and
closed. For such mail :func:`parse` finds each header block with one regular expression and each
boundary line with ``str.find``, and builds exactly the ``compat32`` tree the feed parser builds:
the same ``(name, value)`` header pairs, payload strings, preambles and epilogues, and no defects.

Whatever it does not reproduce exactly returns None, and the caller parses with the standard
library (``triage.ingest.mime_parse``): a missing blank line after the headers, a bare CR, an
envelope ``From`` line, ``message/*`` parts, digests, a multipart without a boundary or with a
transfer encoding, a start or close boundary not found, boundary lines one after another, or an
enclosing part's boundary inside a nested multipart. Every one of those is a case in which the
feed parser records a defect or reads lines differently. ``tests/test_mime_parse.py`` checks both
give the same tree on every file of the shared MIME corpus and on generated mail.
"""

from __future__ import annotations

import re
from email._policybase import compat32
from email.message import Message

# A header block: fields (a name, a colon, the rest of the line, continuation lines) then a blank
# line. The name's characters are the feed parser's own (``headerRE``), without the empty name.
_HEADER_BLOCK = re.compile(r"(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)*\r?\n")
# One field: as ``compat32.header_source_parse`` reads it (leading blanks of the first line
# dropped, continuation lines kept with their line breaks, the last line break dropped).
_FIELD = re.compile(r"([!-9;-~]+):[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)\r?\n")
_BARE_CR = re.compile(r"\r(?!\n)")
# What may follow the boundary on a boundary line (the feed parser's pattern, for whole lines).
_AFTER_SEPARATOR = re.compile(r"(--)?[ \t]*(?:\r?\n|\Z)")
_NO_TRANSFER_ENCODING = ("7bit", "8bit", "binary")
# A Content-Type of a type and one parameter, its value a token or quoted, of printable ASCII
# without quotes, backslashes, semicolons or angle brackets: the shape nearly all mail has, and one
# whose parameter the standard library's parse (about 7 us a call) reads as exactly the text matched.
_ONE_PARAM = re.compile(
    r'(?P<type>[^";\\=<>]*);\s*(?P<name>[A-Za-z0-9_-]+)\s*=\s*(?:"(?P<quoted>[ !#-:=?-\[\]-~]*)"|(?P<token>[!#-:=?-\[\]-~]*))\s*',
    re.ASCII,
)
_MISSING = object()


def _param(msg: Message, name: str) -> object:
    """``msg.get_param(name, _MISSING)`` for Content-Type."""
    value = msg.get("content-type")
    one = _ONE_PARAM.fullmatch(value) if isinstance(value, str) and value.isascii() else None
    # (A bare type that is the name itself is read as that parameter, empty: left to the library.)
    if one is None or one["type"].strip().lower() == name:
        return msg.get_param(name, _MISSING)
    if one["name"].lower() != name:
        return _MISSING
    return one["quoted"] if one["quoted"] is not None else one["token"]


def content_charset(msg: Message) -> str | None:
    """``msg.get_content_charset()``."""
    charset = _param(msg, "charset")
    if charset is _MISSING:
        return None
    if isinstance(charset, str) and charset.isascii():
        return charset.lower()
    return msg.get_content_charset()  # RFC 2231 or not ASCII: as the standard library reads it


def boundary(msg: Message) -> str | None:
    """``msg.get_boundary()``."""
    value = _param(msg, "boundary")
    if value is _MISSING:
        return None
    if isinstance(value, str) and not value.startswith(('"', "<")):
        return value.rstrip()
    return msg.get_boundary()


class _NotSimple(Exception):
    """The message needs the standard library's parser."""


def parse(raw: bytes) -> Message | None:
    """The ``compat32`` tree ``email.message_from_bytes(raw)`` builds, or None when the message is
    not one this reader reproduces exactly (then use the standard library's parser)."""
    text = raw.decode("ascii", "surrogateescape")
    if "\r" in text and _BARE_CR.search(text):
        return None
    msg = Message(policy=compat32)
    try:
        _read_part(text, 0, len(text), msg, ())
    except (_NotSimple, RecursionError):  # very deep nesting: as the standard library reads it
        return None
    return msg


def _read_part(text: str, start: int, end: int, msg: Message, enclosing: tuple[str, ...]) -> None:
    """Fill ``msg`` from ``text[start:end]``; ``enclosing`` are the separators of the multiparts
    around it (a line matching one of them would have ended this part in the feed parser)."""
    block = _HEADER_BLOCK.match(text, start, end)
    if block is None:
        raise _NotSimple
    body = block.end()
    msg._headers = [(f.group(1), f.group(2)) for f in _FIELD.finditer(text, start, body)]  # type: ignore[attr-defined]
    maintype = msg.get_content_maintype()
    if maintype == "message":
        raise _NotSimple
    if maintype != "multipart":
        msg._payload = text[body:end]  # type: ignore[attr-defined]
        return
    separator_text = boundary(msg)
    if (
        separator_text is None
        or msg.get_content_type() == "multipart/digest"
        or str(msg.get("content-transfer-encoding", "8bit")).lower() not in _NO_TRANSFER_ENCODING
    ):
        raise _NotSimple
    for outer in enclosing:
        if _boundary_line(text, outer, body, end) is not None:
            raise _NotSimple
    separator = "--" + separator_text
    line = _boundary_line(text, separator, body, end)
    if line is None or line[2]:  # no start boundary, or a close boundary first
        raise _NotSimple
    if line[0] > body:  # the line break before a boundary belongs to the boundary
        msg.preamble = _without_line_break(text[body : line[0]])
    inner = (*enclosing, separator)
    while True:
        part_start = line[1]
        line = _boundary_line(text, separator, part_start, end)
        if line is None or line[0] == part_start:  # not closed, or boundary lines in a row
            raise _NotSimple
        part = Message(policy=compat32)
        msg.attach(part)
        _read_part(text, part_start, line[0], part, inner)
        if part.is_multipart():
            epilogue = part.epilogue
            part.epilogue = None if epilogue == "" else _without_line_break(epilogue)
        else:
            part._payload = _without_line_break(part._payload)  # type: ignore[attr-defined]
        if line[2]:
            break
    msg.epilogue = text[line[1] : end]


def _boundary_line(text: str, separator: str, start: int, end: int) -> tuple[int, int, bool] | None:
    """The first line in ``text[start:end]`` (``start`` begins a line) that is a boundary line for
    ``separator``: (where it starts, where the next line starts, whether it closes)."""
    i = start
    while (i := text.find(separator, i, end)) >= 0:
        if i == start or text[i - 1] == "\n":
            after = _AFTER_SEPARATOR.match(text, i + len(separator), end)
            if after is not None:
                return i, after.end(), after.group(1) is not None
        i += 1
    return None


def _without_line_break(value: str | None) -> str | None:
    if value and value[-1] == "\n":
        return value[:-2] if value.endswith("\r\n") else value[:-1]
    return value
