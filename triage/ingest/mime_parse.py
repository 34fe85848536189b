"""The standard library's compat32 MIME parser, without one regular expression compile per message.

``email.feedparser`` compiles a pattern for each multipart boundary it meets. Boundaries are
unique per message, so the ``re`` cache never helps, and the compile cost more than a tenth of
parsing a typical message. :class:`FeedParser` runs the standard library's own parsing code
unchanged (its ``_parsegen`` function, given a different ``re``), with the boundary pattern
replaced by :class:`BoundaryMatcher`, which matches exactly what that pattern matches. Any
other pattern is compiled as before, so a later Python that changes the pattern stays correct.
Nothing in the ``email`` package itself is modified.
"""

from __future__ import annotations

import email.feedparser as _feedparser
import re
import types
from email._policybase import compat32
from email.message import Message
from typing import Any

from triage.ingest import mime_fast

_PREFIX = "(?P<sep>"
_SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)  # re.escape only puts a backslash before a character
_LINESEPS = ("\r\n", "\r", "\n")
_AT_END = ("", "\n")  # what ``$`` accepts after the match (the end, or a last newline)


class BoundaryMatch:
    """What ``re.Match`` gives the feed parser: ``group(0)``, ``group("end")``, ``group("linesep")``."""

    __slots__ = ("_groups",)

    def __init__(self, whole: str, sep: str, end: str | None, ws: str, linesep: str | None) -> None:
        self._groups: dict[int | str, str | None] = {0: whole, "sep": sep, "end": end, "ws": ws, "linesep": linesep}

    def group(self, name: int | str = 0) -> str | None:
        return self._groups[name]


class BoundaryMatcher:
    """``re.compile('(?P<sep>' + re.escape(sep) + SUFFIX).match`` for one multipart separator."""

    __slots__ = ("sep",)

    def __init__(self, sep: str) -> None:
        self.sep = sep

    def match(self, line: str) -> BoundaryMatch | None:
        sep = self.sep
        if not line.startswith(sep):
            return None
        i = len(sep)
        end = "--" if line.startswith("--", i) else None
        if end:
            i += 2
        j = i
        while j < len(line) and line[j] in " \t":
            j += 1
        rest = line[j:]
        for linesep in _LINESEPS:
            if rest.startswith(linesep) and rest[len(linesep) :] in _AT_END:
                return BoundaryMatch(line[: j + len(linesep)], sep, end, line[i:j], linesep)
        if rest in _AT_END:
            return BoundaryMatch(line[:j], sep, end, line[i:j], None)
        return None


class _Re:
    """The ``re`` module as the feed parser's code sees it here."""

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    @staticmethod
    def compile(pattern: str, flags: int = 0) -> Any:
        if not flags and pattern.startswith(_PREFIX) and pattern.endswith(_SUFFIX):
            return BoundaryMatcher(_UNESCAPE.sub(r"\1", pattern[len(_PREFIX) : -len(_SUFFIX)]))
        return re.compile(pattern, flags)


_parsegen = types.FunctionType(
    _feedparser.FeedParser._parsegen.__code__,  # type: ignore[attr-defined]
    {**vars(_feedparser), "re": _Re()},
    "_parsegen",
)


class FeedParser(_feedparser.BytesFeedParser):
    _parsegen = _parsegen


def message_from_bytes(raw: bytes) -> Message:
    """As ``email.message_from_bytes(raw)`` (compat32): well-formed mail through
    :func:`triage.ingest.mime_fast.parse`, the rest through the standard library's own code."""
    if (msg := mime_fast.parse(raw)) is not None:
        return msg
    return stdlib_message_from_bytes(raw)


def stdlib_message_from_bytes(raw: bytes) -> Message:
    """The standard library's feed parser (without its per-boundary compiles)."""
    parser = FeedParser(policy=compat32)
    parser.feed(raw)
    return parser.close()
