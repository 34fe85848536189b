"""Auto-replies, bounces and bulk mail are recognised from their headers (and only then)."""

from __future__ import annotations

import pytest
from conftest import make_email

from triage.ingest.email_parse import parse_email
from triage.message import Message, Source


def parse(raw: bytes) -> Message:
    item = parse_email(raw, Source("file", path="t.eml"))
    assert isinstance(item, Message)
    return item


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
        ({"Auto_Submitted": "auto-generated"}, "auto_reply"),
        ({"X_Autoreply": "yes"}, "auto_reply"),
        ({"X_Autorespond": "Out of office"}, "auto_reply"),
        ({"X_Auto_Response_Suppress": "All"}, "auto_reply"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"Precedence": "list"}, "bulk"),
        ({"List_Id": "Tenants News <news.northbrook.example>"}, "bulk"),
        ({"Return_Path": "<>"}, "auto_reply"),
    ],
)
def test_header_rules(headers: dict[str, str], expected: str) -> None:
    m = parse(make_email(**headers))
    assert m.automated == expected
    assert m.automated_reason


@pytest.mark.parametrize("headers", [{}, {"Auto_Submitted": "no"}, {"Precedence": "normal"}, {"Return_Path": "<jo@example.com>"}])
def test_person_written_mail_is_not_marked(headers: dict[str, str]) -> None:
    assert parse(make_email(**headers)).automated is None


def test_mailer_daemon_is_a_bounce() -> None:
    m = parse(make_email(sender="Mail Delivery System <MAILER-DAEMON@mx.example.com>"))
    assert m.automated == "bounce"


def test_multipart_report_delivery_status_is_a_bounce() -> None:
    raw = (
        b"From: postmaster@example.com\nSubject: Undeliverable: your complaint response\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nDelivery to jo@example.com failed.\n"
        b"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
        b"Final-Recipient: rfc822; jo@example.com\nAction: failed\nStatus: 5.1.1\n--B--\n"
    )
    m = parse(raw)
    assert m.automated == "bounce"
    assert "Delivery to jo@example.com failed." in m.body_new
