"""From a message to the features the models read, and the evidence shown to staff.

The *main* features come from the subject and the new text, run through the spaCy pipeline:
word unigrams and bigrams (personal details as placeholders), the evidence rules that fired,
the channel, the sender's domain and the automatic-mail mark. Kind and dissatisfaction read only
these, so a reply's quoted thread can never decide its kind. The *context* features are the
words of the quoted thread, prefixed ``q_``; themes may use them ("thanks, all sorted" over a
thread about a boiler is about heating).

A forward with no new text of its own is read as the message it forwards (GUIDE section 2).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from spacy.tokens import Doc

from triage.classify.data import TextInput
from triage.text.nlp import get_nlp, prepare, token_stream

SUBJECT_SEPARATOR = " | "
_QUOTED_WORD = re.compile(r"[a-z][a-z']{2,}")
_QUOTE_MARKS = re.compile(r"^[>\s]+", re.MULTILINE)
QUOTED_CHARS = 3000
CHAR_TEXT = 1500
MIN_NEW_TOKENS = 3


@dataclass(slots=True)
class Evidence:
    rule: str
    text: str
    field: str  # "subject" or "new"
    start: int  # character offsets within that field
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "text": self.text, "field": self.field, "start": self.start, "end": self.end}


@dataclass(slots=True)
class Features:
    main: list[str]
    context: list[str]
    evidence: list[Evidence]
    words: int  # word tokens in subject + new text
    read_forward: bool
    chars: str = ""  # subject + new text, lower-cased and cut, for character n-grams


def identity(features: list[str]) -> list[str]:
    """The vectorisers' analyzer: features are already made (module-level so it pickles)."""
    return features


def _effective_text(item: TextInput) -> tuple[str, str, bool]:
    """(new text, quoted text, read_forward). A forward with (almost) no new text is read as
    what it forwards; its quoted part then gives no separate context."""
    new, quoted = item.new, item.quoted
    if len(new.split()) < MIN_NEW_TOKENS and quoted.strip():
        return (new + "\n" + _QUOTE_MARKS.sub("", quoted[:QUOTED_CHARS])).strip(), "", True
    return new, quoted, False


def featurise(items: Iterable[TextInput], batch_size: int = 256) -> Iterator[Features]:
    nlp = get_nlp()
    items = list(items)
    prepared = []
    for item in items:
        new, quoted, forwarded = _effective_text(item)
        prepared.append((item, new, quoted, forwarded))
    texts = (prepare(item.subject + SUBJECT_SEPARATOR + new) for item, new, _, _ in prepared)
    for (item, _new, quoted, forwarded), doc in zip(prepared, nlp.pipe(texts, batch_size=batch_size), strict=True):
        yield _features(item, doc, quoted, forwarded)


def _features(item: TextInput, doc: Doc, quoted: str, forwarded: bool) -> Features:
    subject_end = len(item.subject)
    body_start = subject_end + len(SUBJECT_SEPARATOR)
    tokens = token_stream(doc, prefix_before=body_start)
    body = [t for t in tokens if not t.startswith("s_")]
    words = [t for t in body if t[0].isalnum() or t.startswith("__")]
    subject_words = [t for t in tokens if t.startswith("s_") and (t[2:3].isalnum() or t.startswith("s___"))]
    main = tokens + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    main += [f"{a} {b[2:]}" for a, b in itertools.pairwise(subject_words)]
    evidence = []
    for span in doc.spans["evidence"]:
        main.append(f"ev_{span.label_}")
        if span.start_char < subject_end:
            evidence.append(Evidence(span.label_, span.text, "subject", span.start_char, span.end_char))
        elif span.start_char >= body_start:
            evidence.append(Evidence(span.label_, span.text, "new", span.start_char - body_start, span.end_char - body_start))
    main.append(f"ch_{item.channel}")
    if "@" in item.sender_addr:
        main.append("dom_" + item.sender_addr.rsplit("@", 1)[1])
    if item.automated:
        main.append(f"auto_{item.automated}")
    if not words:
        main.append("empty_text")
    main.append(f"len_{min(len(words).bit_length(), 9)}")
    context = ["q_" + w for w in _QUOTED_WORD.findall(quoted[:QUOTED_CHARS].lower())]
    chars = doc.text[:CHAR_TEXT].lower()
    return Features(main, context, evidence, len(words) + len(subject_words), forwarded, chars)
