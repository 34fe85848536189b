"""The parser without per-boundary compiles gives exactly what the standard library's gives."""

from __future__ import annotations

import email
import random
import re
from pathlib import Path

import pytest

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
