"""The spaCy pipeline: ``spacy.blank("en")`` plus our own components, no model downloads.

    tokenizer -> triage_normalise -> sentencizer -> triage_evidence

- ``triage_normalise`` marks URLs, emails, phones, postcodes, references and money as
  placeholder spans (``doc.spans["placeholders"]``) without changing the text.
- ``sentencizer`` splits sentences.
- ``triage_evidence`` finds evidence phrases (``doc.spans["evidence"]``, label = rule name).

Texts are prepared by ``prepare()``: whitespace characters become single spaces one for one
(character offsets stay true), because a newline token early in a text switches off spaCy's
tokenizer cache and halves its speed.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from triage.text.evidence import PHRASES, TOKEN_PATTERNS
from triage.text.normalise import find_placeholders

_WHITESPACE = re.compile(r"[\n\r\t\f\v\u2028\u2029\u00a0]")
MAX_CHARS = 20_000  # longer texts are cut for classification: a letter is rarely longer


def prepare(text: str) -> str:
    return _WHITESPACE.sub(" ", text[:MAX_CHARS])


@Language.component("triage_normalise", assigns=["doc.spans"])
def normalise_component(doc: Doc) -> Doc:
    spans = []
    for start, end, kind in find_placeholders(doc.text):
        span = doc.char_span(start, end, label=kind, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans["placeholders"] = filter_spans(spans)
    return doc


@Language.factory("triage_evidence", assigns=["doc.spans"])
def make_evidence(nlp: Language, name: str) -> EvidenceMatcher:
    return EvidenceMatcher(nlp)


class EvidenceMatcher:
    def __init__(self, nlp: Language) -> None:
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for rule, phrases in PHRASES.items():
            self.phrases.add(rule, list(nlp.tokenizer.pipe(phrases)))
        self.tokens = Matcher(nlp.vocab)
        for rule, patterns in TOKEN_PATTERNS.items():
            self.tokens.add(rule, patterns)

    def __call__(self, doc: Doc) -> Doc:
        vocab = doc.vocab.strings
        found = [Span(doc, s, e, label=vocab[m]) for m, s, e in self.phrases(doc)]
        found += [Span(doc, s, e, label=vocab[m]) for m, s, e in self.tokens(doc)]
        # Keep the longest match per rule where matches of one rule overlap.
        by_rule: dict[str, list[Span]] = {}
        for span in found:
            by_rule.setdefault(span.label_, []).append(span)
        doc.spans["evidence"] = sorted((s for spans in by_rule.values() for s in filter_spans(spans)), key=lambda s: s.start)
        return doc


@functools.cache
def get_nlp() -> Language:
    """The shared pipeline (built once per process: about 0.1 s)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("triage_normalise")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("triage_evidence")
    return nlp


_ZONE_LOCK = threading.Lock()
# The first texts a process reads are read outside a zone, so the words they bring (most of the
# common ones) stay learnt: with every batch in a zone, each one started from an empty vocabulary
# and tokenizer cache, and classifying took about an eighth more CPU.
KEEP_FIRST = 2_000
_read = 0


@contextlib.contextmanager
def memory_zone(texts: int) -> Iterator[None]:
    """A block in which spaCy reads ``texts`` texts and whose new strings and lexemes are freed at
    its end (``Language.memory_zone``), once the process has read ``KEEP_FIRST`` texts.

    spaCy's string store otherwise keeps every word it has ever seen, so a process reading a
    backlog grew with the backlog (about 0.4 KB per message). Inside the block, spaCy objects
    may be used freely; nothing made from them may outlive it except plain Python values
    (the features the model reads are lists of ``str``, and the evidence holds ``str`` copies).
    Zones must not nest or overlap, and nothing may read with spaCy beside one, so one block at a
    time runs in a process (threads watching several mailboxes take turns; the model holds the
    GIL anyway).
    """
    global _read
    with _ZONE_LOCK:
        if _read < KEEP_FIRST:
            _read += texts
            yield
        else:
            with get_nlp().memory_zone():
                yield


def token_stream(doc: Doc, prefix_before: int = 0, prefix: str = "s_") -> list[str]:
    """Lower-cased tokens with placeholders in place of personal details and numbers; tokens
    that start before character ``prefix_before`` (the subject) get ``prefix``."""
    out: list[str] = []
    placeholder_at = {span.start: span for span in doc.spans["placeholders"]}
    i, n = 0, len(doc)
    while i < n:
        span = placeholder_at.get(i)
        token = doc[i]
        mark = prefix if token.idx < prefix_before else ""
        if span is not None:
            out.append(f"{mark}__{span.label_}__")
            i = span.end
            continue
        if not token.is_space:
            # Small numbers carry meaning ("stage 2", "3 weeks"); long ones are identifiers.
            long_number = token.like_num and not token.is_alpha and len(token.text) > 2
            out.append(mark + ("__num__" if long_number else token.lower_))
        i += 1
    return out
