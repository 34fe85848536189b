"""Mark evidence phrases in a message's text without writing any HTML.

The text is split into (segment, is_evidence) pairs; the template escapes every segment and
wraps the evidence ones in <mark>. No markup is ever built from message content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def segments(text: str, phrases: Iterable[str]) -> list[tuple[str, bool]]:
    """Split ``text`` at case-insensitive occurrences of the phrases (longest first)."""
    wanted = sorted({p.strip() for p in phrases if p and len(p.strip()) >= 3}, key=len, reverse=True)
    if not text or not wanted:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    out: list[tuple[str, bool]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() > pos:
            out.append((text[pos : match.start()], False))
        out.append((match.group(0), True))
        pos = match.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out
