"""Property tests: whatever a resident types survives the round trip through MIME and the
parser, and the store keeps exactly one copy of each distinct message."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.ingest.email_parse import parse_email
from triage.message import Message, Source
from triage.store.db import Store

# Printable text in any script, as residents write it; no control characters.
words = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=30).map(str.strip).filter(bool)
subjects = st.lists(words, min_size=1, max_size=6).map(" ".join)
bodies = st.lists(words, min_size=1, max_size=40).map(" ".join)


def build(subject: str, body: str, charset: str) -> bytes:
    try:
        body.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    msg = EmailMessage()
    msg["From"] = "Resident <r@example.com>"
    msg["Subject"] = subject
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


@settings(max_examples=150, deadline=None)
@given(subjects, bodies, st.sampled_from(["utf-8", "iso-8859-1"]))
def test_subject_and_body_words_survive_the_round_trip(subject: str, body: str, charset: str) -> None:
    raw = build(subject, body, charset)
    item = parse_email(raw, Source("file", path="h.eml"))
    assert isinstance(item, Message)
    # Our compat32 path with our own header decoding must read what the stdlib's strict
    # policy.default parser reads. (Not always the subject typed: the stdlib's encoder can put a
    # space at an encoded-word boundary, where RFC 2047 says it is dropped.)
    reference = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
    assert item.subject == " ".join(str(reference).split())
    kept = " ".join([item.body_new, item.body_signature, item.body_quoted]).split()
    assert kept == body.split()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=25))
def test_store_keeps_one_copy_of_each_distinct_message(tmp_path: Path, picks: list[int]) -> None:
    path = tmp_path / f"h{abs(hash(tuple(picks)))}.db"
    with Store(path) as store:
        items = []
        for n in picks:
            item = parse_email(build(f"message {n}", f"body {n}", "utf-8"), Source("file", path=f"{n}.eml"))
            assert isinstance(item, Message)
            items.append(item)
        counts = store.add(items)
        assert counts.stored == len(set(picks)) == store.count()
        assert counts.seen == counts.stored + counts.duplicates
    path.unlink()
