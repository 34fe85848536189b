"""spaCy text processing: placeholders, sentences, evidence phrases with true offsets."""

from __future__ import annotations

import pytest

from triage.text.nlp import get_nlp, prepare, token_stream
from triage.text.normalise import find_placeholders


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("ring me on 07700 900123 after 5", "phone", "07700 900123"),
        ("office 0161 496 0000", "phone", "0161 496 0000"),
        ("mail jo.bloggs@example.com today", "email", "jo.bloggs@example.com"),
        ("see https://northbrook.example/report?id=4.", "url", "https://northbrook.example/report?id=4"),
        ("Flat 2, M14 5RT", "postcode", "M14 5RT"),
        ("about CMP-10417 again", "ref", "CMP-10417"),
        ("Ref: 123456 please", "ref", "Ref: 123456"),
        ("ticket [#1234]", "ref", "[#1234]"),
        ("charged £1,200.50 for it", "money", "£1,200.50"),
    ],
)
def test_placeholders(text: str, kind: str, value: str) -> None:
    assert (kind, value) in [(k, text[s:e]) for s, e, k in find_placeholders(text)]


def test_tokens_use_placeholders_and_keep_small_numbers() -> None:
    doc = get_nlp()(prepare("Stage 2 please. Call 07700 900123 about CMP-10417, I paid £95."))
    assert token_stream(doc) == [
        "stage",
        "2",
        "please",
        ".",
        "call",
        "__phone__",
        "about",
        "__ref__",
        ",",
        "i",
        "paid",
        "__money__",
        ".",
    ]


def test_sentences_and_evidence_with_offsets() -> None:
    text = "This is the third time I've reported it.\nI can smell gas in the kitchen and my baby has asthma."
    doc = get_nlp()(prepare(text))
    assert len(list(doc.sents)) == 2
    found = {(s.label_, text[s.start_char : s.end_char]) for s in doc.spans["evidence"]}
    assert {
        ("repeated_contact", "third time"),
        ("hazard_gas", "smell gas"),
        ("vulnerability", "baby"),
        ("vulnerability", "asthma"),
    } <= found


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("They said it was a stage 0 informal complaint", "informal_stage"),
        ("I want this escalated to stage 2", "escalation"),
        ("I was told to complain to the contractor directly", "contractor_process"),
        ("I have reported it 4 times now", "repeated_contact"),
        ("I am writing on behalf of my mother", "representative"),
        ("My constituent has asked me to write", "mp_office"),
        ("There is black mould in the bedroom", "hazard_damp_mould"),
        ("Water is coming through the light fitting", "hazard_electrical"),
    ],
)
def test_evidence_rules(text: str, rule: str) -> None:
    doc = get_nlp()(prepare(text))
    assert rule in {s.label_ for s in doc.spans["evidence"]}


def test_newlines_become_spaces_one_for_one() -> None:
    text = "line one\nline two\r\n\tend"
    assert len(prepare(text)) == len(text) and "\n" not in prepare(text)


def test_a_memory_zone_frees_new_words_and_reads_text_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """What spaCy learns inside ``memory_zone`` (new strings and lexemes) is freed at its end, so a
    long import does not grow with its backlog; the same text read in a later zone gives the same
    tokens, placeholders and evidence."""
    from triage.text import nlp as nlp_module
    from triage.text.nlp import memory_zone

    monkeypatch.setattr(nlp_module, "KEEP_FIRST", 0)  # (a process's first texts are read outside zones)
    nlp = get_nlp()
    text = prepare("Zorblaxian mould again, call 07700 900123 or zorb@example.com. I want to complain formally.")

    def read() -> tuple[list[str], list[tuple[str, int, int]]]:
        doc = nlp(text)
        return token_stream(doc), [(s.label_, s.start_char, s.end_char) for s in doc.spans["evidence"]]

    before = len(nlp.vocab.strings)
    with memory_zone(1):
        first = read()
    assert "zorblaxian" not in nlp.vocab.strings and len(nlp.vocab.strings) == before
    with memory_zone(1):
        second = read()
    assert first == second == read()  # and outside any zone
    assert "zorblaxian" in first[0] and first[1]


def test_the_first_texts_of_a_process_are_read_outside_a_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first KEEP_FIRST texts teach spaCy the common words for good (reading every batch
    from an empty vocabulary cost an eighth more CPU); after them, new words are freed."""
    from triage.text import nlp as nlp_module
    from triage.text.nlp import memory_zone

    monkeypatch.setattr(nlp_module, "KEEP_FIRST", 3)
    monkeypatch.setattr(nlp_module, "_read", 0)
    nlp = get_nlp()
    for word, texts, kept in (("quorblat", 2, True), ("quorblet", 2, True), ("quorblit", 2, False)):
        with memory_zone(texts):
            nlp(word)
        assert (word in nlp.vocab.strings) == kept, word
