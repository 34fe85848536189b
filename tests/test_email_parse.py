"""Parsing raw email: headers, charsets, HTML, attachments, broken MIME."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_email

from triage.ingest.email_parse import decode_header, parse_email
from triage.message import Message, Quarantined, Source

SRC = Source("file", path="test.eml")


def parse(raw: bytes) -> Message:
    item = parse_email(raw, SRC)
    assert isinstance(item, Message), getattr(item, "reason", "")
    return item


def test_plain_message_fields() -> None:
    m = parse(make_email(references="<a@x> <b@x>", in_reply_to="<b@x>"))
    assert m.subject == "Leak under the sink"
    assert (m.sender_name, m.sender_addr) == ("Jo Bloggs", "jo@example.com")
    assert m.recipients == ["customer.services@northbrook-homes.example"]
    assert m.message_id == "<leak-1@example.com>"
    assert m.in_reply_to == "<b@x>" and m.references == ["<a@x>", "<b@x>"]
    assert m.received_at == datetime(2026, 11, 3, 10, 2, tzinfo=UTC)
    assert m.body_new == "Hello,\n\nThe pipe under my sink is leaking."
    assert m.body_signature == "Thanks\nJo"
    assert m.automated is None


def test_received_time_prefers_top_received_header_and_shows_uk_time() -> None:
    raw = b"Received: from mx by mail.northbrook-homes.example; Mon, 29 Jun 2026 23:30:00 +0000\r\n" + make_email()
    m = parse(raw)
    assert m.received_at == datetime(2026, 6, 29, 23, 30, tzinfo=UTC)
    assert m.received_uk is not None and m.received_uk.isoformat() == "2026-06-30T00:30:00+01:00"  # BST


def test_rfc2047_and_8bit_headers_are_decoded() -> None:
    assert decode_header("=?utf-8?q?Ren=C3=A9e_O=27Brien?=") == "Renée O'Brien"
    assert decode_header("=?iso-8859-1?Q?Damp_in_flat_=A3300_bill?=") == "Damp in flat £300 bill"
    raw = "From: Zoë Ní Bhriain <zoe@example.com>\nSubject: Café flat\nMessage-ID: <z@x>\n\nbody\n".encode()
    m = parse(raw)
    assert m.sender_name == "Zoë Ní Bhriain" and m.subject == "Café flat"


def test_windows_1252_body_with_pound_sign() -> None:
    raw = (
        b"From: a@example.com\nSubject: bill\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
        b"You charged me \xa3120 for a door I didn\x92t break.\n"
    )
    assert parse(raw).body_new == "You charged me £120 for a door I didn’t break."


def test_unknown_charset_falls_back_without_losing_text() -> None:
    raw = b"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-made-up\n\nplain words\n"
    assert parse(raw).body_new == "plain words"


def test_html_only_mail_becomes_readable_text_without_scripts() -> None:
    raw = (
        b"From: a@example.com\nSubject: html\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><head><style>p{color:red}</style></head><body><p>The lift is <b>broken</b> again.</p>"
        b"<script>alert('x')</script><img src='http://tracker.example/p.gif'><p>Flat 12</p></body></html>"
    )
    m = parse(raw)
    assert m.body_format == "html"
    assert m.body_new == "The lift is broken again.\nFlat 12"


def test_attachment_names_types_sizes_and_content_kept() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["Subject"] = "a@example.com", "photos"
    msg.set_content("Photo of the mould attached.")
    msg.add_attachment(b"\xff\xd8\xff\xe0fakejpeg", maintype="image", subtype="jpeg", filename="mould.jpg")
    m = parse(msg.as_bytes())
    assert [(a.filename, a.content_type, a.size) for a in m.attachments] == [("mould.jpg", "image/jpeg", 12)]
    assert m.attachments[0].content == b"\xff\xd8\xff\xe0fakejpeg"
    assert m.body_new == "Photo of the mould attached."


def test_broken_mime_is_read_as_far_as_it_goes() -> None:
    raw = (
        b"From: a@example.com\nSubject: broken\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\n\n--XYZ\nContent-Type: text/plain\n\n'
        b"The door will not lock.\n"  # no closing boundary
    )
    m = parse(raw)
    assert m.body_new == "The door will not lock."
    assert "CloseBoundaryNotFoundDefect" in m.defects


def test_mbox_from_line_and_leading_blank_space_are_tolerated() -> None:
    raw = b"\n  \nFrom MAILER-DAEMON Tue Jul  7 22:47:39 2009\n" + make_email()
    assert parse(raw).subject == "Leak under the sink"


def test_not_mail_and_empty_are_quarantined_with_a_reason() -> None:
    item = parse_email(b"Apache License\nVersion 2.0, January 2004\n", SRC)
    assert isinstance(item, Quarantined) and "not an email message" in item.reason
    empty = parse_email(b"   \n", SRC)
    assert isinstance(empty, Quarantined) and "empty" in empty.reason


def test_raw_bytes_are_kept_exactly_and_hashed() -> None:
    raw = make_email()
    m = parse(raw)
    assert m.raw == raw
    import hashlib

    assert m.sha256 == hashlib.sha256(raw).hexdigest()


def _mail_files(corpus: Path) -> list[bytes]:
    """The shared corpus's files, and generated typical mail (benchmarks/ingest.py's)."""
    import random
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from ingest import make_message

    rng = random.Random(8)
    return [p.read_bytes() for p in sorted(corpus.rglob("*")) if p.is_file()] + [make_message(i, rng) for i in range(200)]


def test_parameters_are_read_as_the_standard_library_reads_them(corpus: Path) -> None:
    """Skipping the parse of a header that cannot hold a parameter changes no answer."""
    import email

    from triage.ingest.email_parse import _has_filename, _may_hold

    headers = ['text/plain; NAME="a"', "text/plain; charset*=utf-8''x", 'attachment; fileName*0="a"', "inline", "", "x; n-ame=1"]
    for raw in _mail_files(corpus) + [f"Content-Type: {h}\nContent-Disposition: {h}\n\nx".encode() for h in headers]:
        for part in email.message_from_bytes(raw).walk():
            assert _has_filename(part) == bool(part.get_filename())
            assert (part.get_content_charset() if _may_hold(part, "charset") else None) == part.get_content_charset()
            assert (part.get_param("report-type") if _may_hold(part, "report-type") else None) == part.get_param("report-type")


def test_the_fast_mime_reader_changes_no_stored_field(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message reads the same through the fast reader as through the standard library's."""
    from dataclasses import asdict

    from triage.ingest import mime_fast

    raws = _mail_files(corpus)
    fast = [parse_email(raw, SRC) for raw in raws]
    monkeypatch.setattr(mime_fast, "parse", lambda raw: None)
    for raw, got in zip(raws, fast, strict=True):
        expected = parse_email(raw, SRC)
        assert type(got) is type(expected)
        assert asdict(got) == asdict(expected)  # type: ignore[call-overload]
