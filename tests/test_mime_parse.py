"""Our parsers give exactly what the standard library's gives: the feed parser without
per-boundary compiles, and the string-search reader of well-formed mail (mime_fast)."""

from __future__ import annotations

import email
import random
import re
from pathlib import Path

import pytest

from triage.ingest import mime_fast
from triage.ingest.email_parse import _header_start
from triage.ingest.mime_parse import BoundaryMatcher, message_from_bytes

SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"


def stdlib_pattern(sep: str) -> re.Pattern[str]:
    return re.compile("(?P<sep>" + re.escape(sep) + SUFFIX)


@pytest.mark.parametrize("boundary", ["b1", "=_Part_0_123.456", "a.b+c*d?(e)[f]{g}|h^$\\", "with space", "x"])
def test_boundary_matcher_matches_what_the_pattern_matches(boundary: str) -> None:
    sep = "--" + boundary
    pattern, ours = stdlib_pattern(sep), BoundaryMatcher(sep)
    pieces = [sep, "--", " ", "\t", "\r\n", "\r", "\n", "x", "-", boundary[:1], ""]
    rng = random.Random(7)
    lines = [sep + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))) for _ in range(3000)]
    lines += ["", sep, sep[:-1], "x" + sep, sep + "--", sep + "--\n", sep + " \t\r\n\n", sep + "\n\n\n", sep + "\r\r"]
    for line in lines:
        expected, got = pattern.match(line), ours.match(line)
        assert (expected is None) == (got is None), repr(line)
        if expected is not None and got is not None:
            for name in (0, "sep", "end", "ws", "linesep"):
                assert got.group(name) == expected.group(name), (repr(line), name)


def test_corpus_parses_as_the_standard_library_parses(corpus: Path) -> None:
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file()]
    assert files
    for path in files:
        raw = path.read_bytes()
        expected, got = email.message_from_bytes(raw), message_from_bytes(raw)
        assert got.as_bytes() == expected.as_bytes(), path
        assert [type(d) for p in got.walk() for d in p.defects] == [type(d) for p in expected.walk() for d in p.defects], path
        assert [p.get_payload(decode=True) for p in got.walk()] == [p.get_payload(decode=True) for p in expected.walk()], path


def test_plain_addresses_read_as_getaddresses_reads_them() -> None:
    from email.utils import getaddresses

    from triage.ingest.email_parse import _addresses

    rng = random.Random(3)
    pieces = ["Jo", " ", "Smith", "<", ">", "a", ".", "..", "@", "b.org", "x-y", "_", "'", '"', ",", "(c)", "9", "+", "é"]
    values = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))) for _ in range(5000)]
    values += ["Jo Smith <jo@b.org>", "jo@b.org", "Jo <jo.smith@mail.b.org>", "A B C <a_b+c@d-e.co.uk>", "jo@b", "jo..x@b.org"]
    for value in values:
        assert _addresses(value) == [(n, a) for n, a in getaddresses([value]) if a or n], repr(value)


def tree(m: email.message.Message) -> tuple[object, ...]:
    """Everything the feed parser sets on a message and its parts."""
    payload = m._payload  # type: ignore[attr-defined]
    parts = [tree(p) for p in payload] if isinstance(payload, list) else payload
    return (m._headers, parts, m.preamble, m.epilogue, [type(d) for d in m.defects], m._default_type, m._unixfrom, m._charset)  # type: ignore[attr-defined]


def test_the_fast_reader_builds_the_standard_librarys_tree_for_the_corpus(corpus: Path) -> None:
    read_fast = 0
    for path in (p for p in sorted(corpus.rglob("*")) if p.is_file()):
        raw = path.read_bytes()
        start = _header_start(raw)
        for data in (raw, raw[start:]) if start > 0 else (raw,):
            got = mime_fast.parse(data)
            if got is not None:
                read_fast += 1
                assert tree(got) == tree(email.message_from_bytes(data)), path
    assert read_fast >= 40  # most of the corpus's well-formed mail; the rest is left to the stdlib


def _generated(rng: random.Random, depth: int = 0) -> str:
    """A random MIME entity, mostly well formed, with the shapes the feed parser treats specially."""
    nl = "\n"
    headers = [
        f"X-{k}: v{k}" + rng.choice(["", " ", "\t", nl + " more", nl + "\t" + nl + " x"]) for k in range(rng.randint(0, 3))
    ]
    if rng.random() < 0.03:
        headers.insert(0, rng.choice(["From someone", " continued", ":novalue", "Bad header line"]))
    if depth < 3 and rng.random() < 0.5:
        boundary = rng.choice(["b", "b1", "=_x", "b--", "b " if rng.random() < 0.5 else "bb", f"p{depth}"])
        kind = rng.choice(["mixed", "alternative", "related", "digest"] if rng.random() < 0.2 else ["mixed", "alternative"])
        ctype = f'Content-Type: multipart/{kind}; boundary="{boundary}"'
        if rng.random() < 0.05:
            ctype = f"Content-Type: multipart/{kind}"
        if rng.random() < 0.05:
            headers.append("Content-Transfer-Encoding: base64")
        sep = "--" + boundary.rstrip()
        body = rng.choice(["", "preamble" + nl, nl, "pre" + nl + nl])
        for _ in range(rng.randint(0, 3)):
            body += sep + rng.choice(["", "", " ", "\t "]) + nl
            if rng.random() < 0.03:
                body += sep + nl
            body += _generated(rng, depth + 1)
            body += rng.choice(["", nl, nl + nl])
        if rng.random() < 0.95:
            body += sep + "--" + rng.choice(["", " "]) + rng.choice([nl, "", nl + "epilogue" + nl, nl + nl])
        return nl.join([*headers, ctype]) + nl + nl + body
    if rng.random() < 0.05:
        headers.append("Content-Type: message/rfc822")
    text = rng.choice(["hello", "a" + nl + "b", "", nl, "x" + nl])
    if rng.random() < 0.1:  # lines that look like (or are) boundaries of this or an enclosing part
        text = rng.choice(["--b", "--b--", "--p0", "line" + nl + "--b " + nl, "--bb x", "--p1--" + nl])
    blank = nl if rng.random() < 0.97 else ""
    return nl.join(headers) + (nl if headers else "") + blank + text


def test_the_fast_reader_builds_the_standard_librarys_tree_or_declines() -> None:
    rng = random.Random(11)
    read_fast = 0
    for i in range(3000):
        text = _generated(rng)
        for data in (text.encode(), text.replace("\n", "\r\n").encode(), text.replace("\n", "\r").encode()):
            got = mime_fast.parse(data)
            if got is not None:
                read_fast += 1
                assert tree(got) == tree(email.message_from_bytes(data)), (i, data)
            assert tree(message_from_bytes(data)) == tree(email.message_from_bytes(data)), (i, data)
    assert read_fast > 3000  # of 9000, a third with bare CRs (always declined)


def _content_type(rng: random.Random) -> str:
    """A Content-Type most often of the shape mime_fast reads itself, with now and then a piece
    that sends it to the standard library (quotes, RFC 2231, a second parameter, non-ASCII ...)."""
    odd = ["", "", "", '"', "\\", "<", ">", ";", "*", "*0*", "é", "\x1c", "\n\t", " x", "us-ascii''", "=", "charset", "boundary"]
    space = ["", " ", "  ", "\n\t", "\t"]
    name = rng.choice(["charset", "CharSet", "boundary", "BOUNDARY", "format", "name"]) + rng.choice(odd)
    value = rng.choice(
        ["utf-8", "UTF-8", "iso-8859-1", "===============123==", "b1_abc", "", " x ", "a b", "x(y)?@[z]"]
    ) + rng.choice(odd)
    value = f'"{value}"' if rng.random() < 0.5 else value
    kind = rng.choice(["text/plain", "multipart/alternative", "", "charset", "Boundary", "text/plain" + rng.choice(odd)])
    text = f"{kind}{rng.choice(space)};{rng.choice(space)}{name}{rng.choice(space)}={rng.choice(space)}{value}{rng.choice(space)}"
    return text + rng.choice(odd) if rng.random() < 0.2 else text


def test_content_type_parameters_are_read_as_the_standard_library_reads_them() -> None:
    """mime_fast reads charset and boundary itself from a Content-Type of one plain parameter, and
    gives what ``get_content_charset`` and ``get_boundary`` give, for every header it is shown."""
    from email.message import Message

    rng = random.Random(11)
    read_here = 0
    for _ in range(20_000):
        msg = Message()
        msg["Content-Type"] = value = _content_type(rng)
        read_here += bool(value.isascii() and mime_fast._ONE_PARAM.fullmatch(value))
        assert mime_fast.content_charset(msg) == msg.get_content_charset(), repr(value)
        assert mime_fast.boundary(msg) == msg.get_boundary(), repr(value)
    assert read_here > 2_000
    assert mime_fast.content_charset(Message()) is None and mime_fast.boundary(Message()) is None
