"""Placeholders for things whose exact value carries no meaning for classification and is
personal data: URLs, email addresses, phone numbers, postcodes, reference numbers and money.

The patterns find character spans; the spaCy component turns them into token placeholders
(``__url__``, ``__email__``, ...) without changing the text, so evidence offsets stay true.
"""

from __future__ import annotations

import re

PLACEHOLDERS: dict[str, re.Pattern[str]] = {
    "url": re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)]", re.IGNORECASE),
    "email": re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "phone": re.compile(
        r"(?<![\w£])(?:(?:\+44\s?\(?0?\)?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}|0800\s?\d{3}\s?\d{4})(?![\w])"
    ),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.IGNORECASE),
    "money": re.compile(r"£\s?\d[\d,]*(?:\.\d{1,2})?(?:k\b)?|\b\d[\d,]*(?:\.\d{2})?\s?(?:pounds|quid)\b", re.IGNORECASE),
    "ref": re.compile(
        r"\b(?:[A-Z]{2,5}[-/]?\d{4,}|\d{6,})\b|\[#\d+\]|\b(?:ref(?:erence)?|case|job|complaint)\s*(?:no\.?|number)?[:#]?\s*\d{3,}\b",
        re.IGNORECASE,
    ),
}


def find_placeholders(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans, earliest first; on overlap the first kind in
    PLACEHOLDERS order wins (an email address is not also a URL)."""
    spans: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PLACEHOLDERS.items():
        for m in pattern.finditer(text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            spans.append((s, e, kind))
            taken.append((s, e))
    return sorted(spans)
