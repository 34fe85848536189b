"""Redaction of personal data on messy, real-looking resident mail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.text.redact import redact

LETTER = """Dear Sir/Madam,

I am writing on behalf of my mum Mrs Eileen O'Connor at Flat 4, 12 Juniper Walk, Northbrook NB3 7QT. Her tenancy ref is
T/00123 and the repair job no. 4471923 is STILL open!!
Please call me on 07700 900123 or 0161-496-0000, or email eileen.oconnor+housing@gmail.com.

Kind regards,
Sarah O'Connor
"""


def test_a_letter_keeps_its_meaning_and_loses_every_identifier() -> None:
    out = redact(LETTER)
    for gone in ("Eileen", "O'Connor", "Sarah", "Juniper", "NB3", "7QT", "00123", "4471923", "07700", "0161", "gmail"):
        assert gone not in out, gone
    assert "I am writing on behalf of my mum Mrs [NAME] at [ADDRESS]" in out
    assert "[POSTCODE]" in out and "[REF]" in out and out.count("[PHONE]") == 2 and "[EMAIL]" in out
    assert out.rstrip().endswith("Kind regards,\n[NAME]")
    assert "STILL open!!" in out  # the complaint itself is untouched


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # lower case, no punctuation, phone with +44 (0)
        (
            "hi,, my name is jo bloggs and i live at 3b cedar court nb1 2ab. ref CMP-10417. ring +44 (0)7700 900 456 thx",
            ["jo", "bloggs", "cedar", "nb1", "10417", "900 456"],
            ["[NAME] and i live at [ADDRESS] [POSTCODE]", "ref [REF]", "[PHONE]"],
        ),
        # an Outlook header block, a relation, a first name + surname, a National Insurance number
        (
            "From: Priya Shah <priya.shah@example.org>\nSent: 03 November 2026 10:02\n"
            "Spoke to your officer Dave on Tuesday, he said Mark Evans would visit. NI number QQ 12 34 56 C.",
            ["Priya", "Shah", "priya.shah", "Dave", "Mark", "Evans", "QQ 12"],
            ["From: [NAME] <[EMAIL]>", "your officer [NAME] on Tuesday", "NI number [REF]"],
        ),
        # an MP's office, a title, the same surname again later
        (
            "Dear Sir, I write on behalf of my constituent Mrs Patel, who is extremely distressed. Mrs Patel's son "
            "has asthma. PATEL family, 27 St Mary's Road.\nJane Doe MP, House of Commons",
            ["Patel", "PATEL", "Jane", "Doe", "Mary"],
            ["my constituent Mrs [NAME]", "[NAME] MP, House of Commons", "[ADDRESS]"],
        ),
        # no false alarms: courts, days, the landlord, the Ombudsman, Code sections
        (
            "The County Court hearing is on Monday. Northbrook Homes told the Housing Ombudsman under Code 5.2 "
            "that stage 1 was answered in 10 working days.",
            [],
            ["The County Court hearing is on Monday. Northbrook Homes told the Housing Ombudsman under Code 5.2"],
        ),
        # a web form dump with a street and a short sign-off, dots in the phone number
        (
            "Name: Tom Hughes\nAddress: 5 Station Road\nPhone: 07700.900.321\nMessage: bins not collected AGAIN\nThanks\nTom",
            ["Hughes", "Station", "900.321"],
            ["Address: [ADDRESS]", "Phone: [PHONE]", "bins not collected AGAIN", "Thanks\n[NAME]"],
        ),
        (
            "My son Jack (4) has asthma and my neighbour, Dave, said the mould is worse at number 14. See www.example.org/x",
            ["Jack", "Dave", "example.org"],
            ["My son [NAME] (4) has asthma", "[URL]"],
        ),
    ],
)
def test_messy_text(text: str, gone: list[str], kept: list[str]) -> None:
    out = redact(text)
    for g in gone:
        assert g not in out, (g, out)
    for k in kept:
        assert k in out, (k, out)


def test_empty_and_clean_text_pass_through() -> None:
    assert redact("") == ""
    clean = "The boiler has been broken for three weeks and nobody has come."
    assert redact(clean) == clean


def test_redaction_is_idempotent() -> None:
    once = redact(LETTER)
    assert redact(once) == once


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.sampled_from("the boiler leak has been broken for weeks and nobody came please help".split()), max_size=12),
    user=st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8})?", fullmatch=True),
    phone=st.from_regex(r"07[0-9]{3} ?[0-9]{6}", fullmatch=True),
    postcode=st.from_regex(r"[A-Z]{1,2}[0-9] ?[0-9][A-Z]{2}", fullmatch=True),
    number=st.integers(min_value=1, max_value=999),
)
def test_identifiers_never_survive(words: list[str], user: str, phone: str, postcode: str, number: int) -> None:
    text = f"{' '.join(words)} email {user}@example.org or ring {phone}, {number} Cedar Road {postcode}. {' '.join(words)}"
    out = redact(text)
    for gone in (f"{user}@", phone, postcode, "Cedar Road"):
        assert gone not in out, (gone, out)
    assert out.count("[EMAIL]") == 1 and out.count("[PHONE]") == 1 and out.count("[POSTCODE]") == 1
