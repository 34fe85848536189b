"""New text, quoted thread and signature are separated, and nothing is lost."""

from __future__ import annotations

import random

import pytest

from triage.ingest.replies import split_body

OUTLOOK = """Please can you chase this, nobody has called.

Kind regards
Mr A Khan
Flat 4, 12 Elm Road
07700 900123

-----Original Message-----
From: Repairs <repairs@northbrook-homes.example>
Sent: 03 November 2026 10:02
To: A Khan <a@example.com>
Subject: RE: leak

We will call you.
"""


def test_outlook_original_message_block_and_sign_off() -> None:
    parts = split_body(OUTLOOK)
    assert parts.new == "Please can you chase this, nobody has called."
    assert parts.signature.startswith("Kind regards\nMr A Khan")
    assert parts.quoted.startswith("-----Original Message-----")
    assert "We will call you." in parts.quoted


def test_outlook_header_block_without_original_message_line() -> None:
    text = "It's still leaking.\n\nFrom: Repairs Team <r@x.example>\nSent: Monday, 2 November 2026 09:00\nTo: Jo\nSubject: leak\n\nBooked for Tuesday."
    parts = split_body(text)
    assert parts.new == "It's still leaking."
    assert parts.quoted.startswith("From: Repairs Team")


def test_thanks_over_angry_thread_keeps_the_thanks_as_new_text() -> None:
    text = (
        "CAUTION: This email originated from outside of the organisation. Do not click links or open attachments.\n\n"
        "Thanks, all sorted now.\n\nOn Mon, 2 Nov 2026 at 09:00, Jane <j@example.com> wrote:\n> THIS IS RIDICULOUS\n"
    )
    parts = split_body(text)
    assert parts.new == "Thanks, all sorted now."
    assert parts.quoted.endswith("> THIS IS RIDICULOUS")
    assert parts.signature.startswith("CAUTION:")


def test_outlook_web_underscore_rule() -> None:
    text = "Any update?\n\n________________________________\nFrom: Lettings <l@x.example>\nSent: 1 November 2026\n\nWe will be in touch."
    parts = split_body(text)
    assert parts.new == "Any update?"
    assert "We will be in touch." in parts.quoted


def test_forwarded_message_goes_to_quoted() -> None:
    parts = split_body("FYI\n\n---------- Forwarded message ---------\nFrom: Bob <b@example.com>\n\nthere is mould")
    assert parts.new == "FYI" and parts.quoted.endswith("there is mould")


def test_disclaimer_and_device_line_go_to_signature() -> None:
    text = (
        "The gate is broken.\n\nSent from my iPhone\n\n"
        "This email and any attachments are confidential and intended solely for the addressee. "
        "If you have received this email in error please notify the sender."
    )
    parts = split_body(text)
    assert parts.new == "The gate is broken."
    assert "Sent from my iPhone" in parts.signature and "confidential" in parts.signature


def test_a_message_that_starts_with_thanks_is_not_cut() -> None:
    parts = split_body("Thanks for your reply. The leak is still there and the ceiling is wet.")
    assert parts.new == "Thanks for your reply. The leak is still there and the ceiling is wet."
    assert parts.signature == ""


@pytest.mark.parametrize("text", ["", "   \n\n", "ok"])
def test_short_and_empty_bodies(text: str) -> None:
    parts = split_body(text)
    assert parts.new == text.strip() and parts.quoted == "" and parts.signature == ""


def test_every_word_is_kept_in_one_of_the_three_parts() -> None:
    parts = split_body(OUTLOOK)
    joined = " ".join([parts.new, parts.signature, parts.quoted]).split()
    for word in OUTLOOK.split():
        assert word in joined


def test_bottom_posted_reply_keeps_the_answer_as_new_text() -> None:
    parts = split_body("> When can we come to fix the boiler?\n> Repairs\n\nTuesday is fine, any time after 10.\n")
    assert parts.new == "Tuesday is fine, any time after 10."
    assert parts.quoted == "> When can we come to fix the boiler?\n> Repairs"


def test_a_forward_with_no_new_text_is_all_quoted() -> None:
    parts = split_body("---------- Forwarded message ---------\nFrom: Bob <b@example.com>\n\nthere is mould")
    assert parts.new == "" and parts.quoted.endswith("there is mould")


PIECES = [
    "Hello",
    "the boiler is broken",
    "\n",
    "\n\n",
    "  ",
    "wrote:",
    "WROTE:",
    "On Mon, 2 Nov 2026, Jo",
    "From:",
    "FROM: x",
    "Sent: Monday",
    "To: Jo",
    "Subject: leak",
    "Date: today",
    "cc:",
    "Organization: X",
    "----- Original Message -----",
    "-----ORIGINAL MESSAGE-----",
    "> quoted",
    "İ",
    "ı",
    "ſ",
    "ſent:",
    "K",
    "This email is confidential",
    "THIS E-MAIL IS PRIVATE",
    "If you have received this message in error",
    "ıf you are not the intended recipient",
    "emails sent to or from us may be monitored",
    "please consider the environment before printing",
    "Views expressed in this email are not ours",
    "subject to the Freedom of Information Act",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "*From:* Jo",
    "__________",
    "on Tuesday Sam wrote:",
    "Offer",
    "off",
    "but",
    "\n\n" + "_" * 32,  # an Outlook rule, which the library's normalising drops
    "\n\n -_" + "-" * 31,
    "\r\n",
    "Kind regards",
    "Jo Smith",
    "07700 900123",
    "Sent from my iPhone",
    "--",
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice([" ", "\n", "", ". "]) for _ in range(rng.randint(0, 30)))


def test_reply_headers_are_found_as_the_library_finds_them() -> None:
    """Our shortcut (no search when no header marker is in the text) gives the library's replies."""
    from mailparser_reply.constants import OUTLOOK_MAIL_SEPARATOR

    from triage.ingest.replies import LIBRARY_HEADER_PATTERN, _Replies, _reply_contents

    assert _Replies(text="", languages=["en"]).HEADER_REGEX.pattern == LIBRARY_HEADER_PATTERN  # markers still cover it
    assert OUTLOOK_MAIL_SEPARATOR == r"(\n{2,} ?[_-]{32,})"  # replies._LIBRARY_RULE still covers it
    rng = random.Random(5)
    words = ["From", "Sent", "To", "Subject", "Date", "Cc", "Organization"]
    headers_of_one_kind = [f"Hi\n\n{w}: a\n{w.upper()}: b\n\nold" for w in words]
    for text in headers_of_one_kind + [_random_text(rng) for _ in range(3000)]:
        theirs = _Replies(text=text, languages=["en"]).read().replies
        assert _reply_contents(text) == [r.content for r in theirs], repr(text)


def _furniture_line_by_line(text: str) -> tuple[str, str]:
    """``replies._strip_trailing_furniture`` as it was, with a case-insensitive search per line."""
    from triage.ingest.replies import _DEVICE_LINE, _DISCLAIMER, _SIG_DASHES, _SIGN_OFF

    lines = text.rstrip().split("\n")
    cut = len(lines)
    for i in range(len(lines) - 1, max(-1, len(lines) - 40), -1):
        if _DISCLAIMER.search(lines[i]):
            start = i
            while start > 0 and lines[start - 1].strip():
                start -= 1
            cut = min(cut, start)
    for i in range(len(lines) - 1, -1, -1):
        if _DEVICE_LINE.match(lines[i]) or (_SIG_DASHES.match(lines[i]) and len(lines) - i <= 12):
            cut = min(cut, i)
    window_start = max(0, cut - 10)
    for i in range(window_start, cut):
        if _SIGN_OFF.match(lines[i]) and i > 0:
            after = [ln for ln in lines[i + 1 : cut] if ln.strip()]
            if len(after) <= 8 and all(len(ln.strip()) <= 60 for ln in after):
                cut = i
                break
    if cut >= len(lines):
        return text, ""
    return "\n".join(lines[:cut]), "\n".join(lines[cut:]).strip()


def test_disclaimers_are_found_as_a_line_by_line_search_finds_them() -> None:
    """One search over the last lines, lower-cased, cuts where a case-insensitive search of each
    line did."""
    from triage.ingest.replies import _DISCLAIMER, _strip_trailing_furniture

    rng = random.Random(6)
    with_disclaimer = 0
    for _ in range(3000):
        text = _random_text(rng) + "\n" * rng.randint(0, 50) + _random_text(rng)
        with_disclaimer += bool(_DISCLAIMER.search(text))
        assert _strip_trailing_furniture(text) == _furniture_line_by_line(text), repr(text)
    assert with_disclaimer > 500


def test_the_quote_start_is_found_where_a_search_of_the_whole_text_finds_it() -> None:
    """Trying the quote-start pattern only at lines that start with one of its first characters
    finds the place a search of every character found."""
    from triage.ingest.replies import _QUOTE_START, _quote_start

    rng = random.Random(7)
    found = 0
    for _ in range(5000):
        text = _random_text(rng)
        ours, theirs = _quote_start(text), _QUOTE_START.search(text)
        assert (ours and ours.span()) == (theirs and theirs.span()), repr(text)
        found += theirs is not None
    assert found > 2000
