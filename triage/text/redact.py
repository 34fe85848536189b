"""Redaction of personal data in text that leaves triage (report excerpts, exports).

``redact(text)`` replaces email addresses, web addresses, phone numbers, postcodes, reference
numbers, street addresses and people's names with ``[EMAIL]``, ``[URL]``, ``[PHONE]``,
``[POSTCODE]``, ``[REF]``, ``[ADDRESS]`` and ``[NAME]``.

Patterns first, in that order (an email address is not also a name); then names, found from
their context: a title ("Mrs Patel"), a greeting ("Dear Sarah"), a sign-off ("Kind regards,
Jo Bloggs"), "my name is", a relation ("my son Jack"), "spoke to", "MP" after a name, a mail
display name, or a common first name followed by a surname. A word found as a name once is
redacted everywhere in the same text ("Patel's flat"). The email, phone, postcode and
reference patterns extend those of :mod:`triage.text.normalise`, so the two agree.

Redaction is best effort: it removes what a careful reader would, from messy real mail, but it
cannot promise to find every name. Excerpts are short for that reason too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from triage.text.normalise import PLACEHOLDERS

_STREET = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Cl|Court|Ct|Drive|Dr|Way|Walk|Crescent|Cres|Gardens|Gdns|"
    "Place|Pl|Terrace|Terr|Grove|Gr|Hill|Row|Square|Sq|Mews|Parade|Rise|View|Green|Park|Vale|Wharf|"
    "Yard|Fields|Meadow|Meadows|Heights|Croft|Boulevard|Embankment|House|Tower|Towers|Estate|Lodge"
)
_CAP = r"[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?"
# Not addresses, though shaped like one.
_NOT_ADDRESS = re.compile(
    r"^(?:County|High|Crown|Magistrates'?|Family|Supreme|Civic|Town|City|Customer|Head|Call|Care|Service|Housing) "
    r"(?:Court|House|Centre|Park|Way|Tower|Estate)$"
)
_ADDRESS_PATTERNS = (
    # Flat 4, 12 Juniper Walk / 12a Juniper Walk / flat 3b Cedar Court
    re.compile(
        rf"\b(?:(?i:flat|apartment|apt|unit|room)\s+\d+[a-z]?\b,?\s*)?\d{{1,4}}[a-zA-Z]?,?\s+(?:{_CAP}\s+){{1,3}}(?:{_STREET})\b\.?",
    ),
    # lower-case: 3b cedar court
    re.compile(rf"\b\d{{1,4}}[a-z]?,?\s+(?:[a-z]+\s+){{1,2}}(?:{_STREET.lower()})\b"),
    re.compile(rf"\b(?i:flat|apartment|apt)\s+\d+[a-zA-Z]?\b(?:,?\s+(?:{_CAP}\s+){{1,3}}(?:{_STREET})\b)?"),
    # Juniper Walk, Cedar Court (no number): two capitalised words ending in a street word.
    re.compile(rf"\b(?:{_CAP}\s+){{1,2}}(?:{_STREET})\b(?![''’]s\b)"),
)

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Cllr|Councillor|Sir|Dame|Lady|Lord|Rev|Revd|Prof)"
_NAME_WORD = r"O['’][A-Z][a-z]+|Mc[A-Z][a-z]+|Mac[A-Z][a-z]+|[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|[A-Z]\.?(?=\s+[A-Z][a-z])"
_NAME = rf"(?:{_NAME_WORD})(?:\s+(?:{_NAME_WORD})){{0,2}}"

# Words that start with a capital but are not names in these positions.
_NOT_NAMES = {
    w.lower()
    for w in """
    I I'm I've I'd Im The A An This That These Those It It's Its We We're Our Us You Your Yours He She They Them There
    Here Hi Hello Dear Thanks Thank Regards Kind Best Many Warm Yours Sincerely Faithfully Cheers Please Sir Madam
    Team Customer Customers Services Service Housing Repairs Repair Complaints Complaint Council Officer Manager
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Today Tomorrow Yesterday Morning Afternoon Evening Stage Ombudsman MP
    Northbrook Homes Home Mum Dad Also And But Or So If When What Why How Who Still Again Just Not No Yes Ok Okay
    All Sorry Re Fw Fwd Subject Sent From To Cc On Tel Mob Mobile Phone Email Ref Reference Flat Apartment Ltd
    Limited Plc Mould Damp Gas Leak Heating Boiler Contractor Contractors Tenancy Tenant Tenants Resident Residents
    Anti Social Behaviour ASB Neighbourhood Neighbourhoods Property Properties Income Voids Lettings Leasehold
    Mr Mrs Ms Miss Mx Dr Cllr Councillor Dame Lady Lord Rev Revd Prof
    and or i from at of in on for with to the a an is am was be live living writing calling
    Allocations Options Help Urgent Update Follow Further Following Sent Via iPhone Android Outlook
    England Wales Scotland Ireland Britain UK GB London Christmas Easter
    """.split()
}

_COMMON_FIRST_NAMES = set(
    """
    Aaron Abdul Abigail Adam Adrian Ahmed Aisha Alan Albert Alex Alexander Alfie Ali Alice Alison Amanda Amber Amelia Amir
    Amy Andrea Andrew Angela Ann Anna Anne Anthony Archie Arthur Ashley Barbara Barry Ben Benjamin Beth Bethany Bill Bob
    Brian Callum Carl Carol Caroline Catherine Charlie Charlotte Chloe Chris Christine Christopher Claire Colin Connor
    Craig Daisy Daniel Danny Darren Dave David Dawn Dean Debbie Deborah Denise Dennis Derek Diane Donna Dylan Edward
    Eileen Eleanor Elizabeth Ella Ellie Emily Emma Eric Ethan Evie Fatima Finley Frank Freddie Gareth Gary Gemma George
    Georgia Gill Gillian Gordon Grace Graham Hannah Harriet Harry Hassan Hayley Heather Helen Henry Holly Ian Imran
    Isabella Isla Ivy Jack Jackie Jacob Jade Jake James Jamie Jane Janet Jason Jasmine Jayden Jean Jennifer Jenny Jessica
    Jill Jim Jo Joan Joanne Joe John Jonathan Joseph Josh Joshua Joyce Julia Julie Karen Kate Katie Kay Keith Kelly
    Kevin Kieran Kim Kirsty Laura Lauren Leah Lee Leo Leon Lesley Lewis Liam Lily Linda Lisa Logan Louise Lucy Luke
    Lynn Mandy Margaret Maria Marie Mark Martin Mary Mason Matthew Maureen Megan Mel Melanie Michael Michelle Mia Mike
    Mohammed Muhammad Nadia Natalie Nathan Neil Nicola Nicole Noah Oliver Olivia Oscar Paul Paula Pauline Peter Phil
    Philip Poppy Priya Rachel Raj Rebecca Richard Rob Robert Robyn Ronald Rosie Ruby Russell Ruth Ryan Sadia Sally Sam
    Samantha Samuel Sandra Sarah Scott Sean Shannon Sharon Shaun Sheila Simon Sophie Stephen Steve Steven Stuart Susan
    Tariq Teresa Theo Thomas Tim Toby Tom Tony Tracey Tracy Usman Vicky Victoria Wayne William Yasmin Yusuf Zara Zoe
    """.split()
)

_NAME_CONTEXTS = (
    # Mrs Patel, Dr A. Khan, Cllr Jo Bloggs
    re.compile(rf"\b(?P<keep>{_TITLES}\.?\s+)(?P<name>{_NAME})"),
    # Dear Sarah, / Hi Tom / Hello Mr Smith (the title case is above)
    re.compile(
        rf"(?:^|(?<=[\s>]))(?P<keep>(?:Dear|Hi|Hello|Hiya|Morning|Afternoon|Evening)\s+)(?P<name>{_NAME})(?=\s*[,!\n.]|\s*$)",
        re.M,
    ),
    # Kind regards,\nJo Bloggs / Thanks, Sam / Many thanks\n\nPriya
    re.compile(
        rf"(?P<keep>\b(?i:regards|thanks|thank you|cheers|best wishes|best|sincerely|faithfully|wishes|many thanks|warmly)\b[,.!]?[ \t]*\n?[ \t]*\n?[ \t]*-*\s?)"
        rf"(?P<name>{_NAME})(?=\s*(?:\n|$|\(|,|<|MP\b))",
    ),
    # ... or signed in capitals on its own line: Kind regards\nJOHN SMITH
    re.compile(
        r"(?P<keep>\b(?i:regards|thanks|thank you|cheers|best wishes|sincerely|faithfully|many thanks)\b[,.!]?[ \t]*\n[ \t]*\n?[ \t]*)"
        r"(?P<name>[A-Z]{2,}(?:[ \t]+[A-Z]{2,}){0,2})[ \t]*$",
        re.M,
    ),
    # my name is jo bloggs (any case: people type their own name in lower case)
    re.compile(r"(?P<keep>\b(?i:my name is|my name's|my names)\s+)(?P<name>[A-Za-z'’-]+(?:\s+[A-Za-z'’-]+)?)"),
    # my name is Jo Bloggs / I am Jo, / this is Jo from
    re.compile(rf"(?P<keep>\b(?i:this is|I am|I'm|called|named|spoke to|speaking to|spoke with|talked to)\s+)(?P<name>{_NAME})"),
    # my son Jack, my neighbour Dave, your officer Lisa
    re.compile(
        rf"(?P<keep>\b(?i:(?:my|our|his|her|their|your)\s+(?:son|daughter|wife|husband|partner|mum|mother|dad|father|"
        rf"brother|sister|neighbour|carer|grandson|granddaughter|nan|gran|grandmother|grandfather|friend|child|"
        rf"baby|officer|housing officer|surveyor|caseworker|support worker|social worker|advocate|solicitor|colleague))"
        rf",?\s+)(?P<name>{_NAME})",
    ),
    # Jane Doe MP
    re.compile(rf"(?P<keep>)(?P<name>{_NAME})(?=\s+MP\b)"),
    # Mail display name: Jo Bloggs <[EMAIL]>
    re.compile(rf"(?P<keep>)(?P<name>{_NAME})(?=\s*<\[EMAIL\]>)"),
    # "Jo Bloggs" quoted display name
    re.compile(rf"(?P<keep>\")(?P<name>{_NAME})(?=\")"),
)

_PHONE_EXTRA = re.compile(
    r"(?<![\w£])(?:\+44\s?\(0\)\s?|\+44\s?|0044\s?|0)(?:\d[\s.-]?){8,9}\d(?!\w)"  # 07700.900.123, +44 (0)161 496 0000
)
_REF_EXTRA = re.compile(
    r"\b[A-Z]{1,4}[-/]\d{3,}(?:[-/]\d+)*\b"  # T/00123, HB-4471, CMP-10417-2
    r"|\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"  # National Insurance number
    r"|\b(?:ref(?:erence)?|case|job|complaint|account|tenancy|claim|order|ticket|acc)\s*(?:no\.?|number|ref|id)?\s*[:#]?\s*"
    r"(?=[A-Z0-9/-]*\d)[A-Z0-9][A-Z0-9/-]{3,}\b",
    re.IGNORECASE,
)


def _sub_all(pattern: re.Pattern[str], token: str, text: str) -> str:
    return pattern.sub(token, text)


def _looks_like_name(candidate: str) -> bool:
    words = candidate.split()
    while len(words) > 1 and re.fullmatch(r"[A-Z]\.", words[0]):  # an initial: "A. Okafor" is judged by "Okafor"
        words = words[1:]
    return bool(words) and words[0].lower().strip(".") not in _NOT_NAMES


def _trim_name(candidate: str) -> str:
    """Drop trailing words that are not names ("Sarah Thanks" -> "Sarah")."""
    words = candidate.split()
    while words and words[-1].lower().strip(".") in _NOT_NAMES:
        words.pop()
    return " ".join(words)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with personal data replaced by [NAME], [EMAIL], [PHONE], [ADDRESS], [POSTCODE],
    [REF] and [URL]. ``names`` are names known to be in it (a sender's display name, say): each
    of their words is redacted wherever it appears, as a name found from its context is."""
    if not text:
        return text
    out = text
    out = _sub_all(PLACEHOLDERS["url"], "[URL]", out)
    out = _sub_all(PLACEHOLDERS["email"], "[EMAIL]", out)
    out = _sub_all(PLACEHOLDERS["postcode"], "[POSTCODE]", out)
    out = _sub_all(_PHONE_EXTRA, "[PHONE]", out)  # the longer forms first (0044 161 496 0000)
    out = _sub_all(PLACEHOLDERS["phone"], "[PHONE]", out)
    out = _REF_EXTRA.sub(lambda m: _keep_label(m.group(0)), out)
    out = _sub_all(PLACEHOLDERS["ref"], "[REF]", out)
    out = _redact_addresses(out)
    known = {w.strip(".,") for name in names for w in name.split()}
    return _redact_names(out, {w for w in known if len(w) > 1 and w.lower() not in _NOT_NAMES})


def _keep_label(match: str) -> str:
    """'ref: HB-4471' -> 'ref: [REF]' (the label says what was removed)."""
    m = re.match(
        r"(?i)((?:ref(?:erence)?|case|job|complaint|account|tenancy|claim|order|ticket|acc)\s*(?:no\.?|number|ref|id)?\s*[:#]?\s*)",
        match,
    )
    return (m.group(1) if m else "") + "[REF]"


def _redact_addresses(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        found = m.group(0).rstrip(".")
        words = found.split()
        if _NOT_ADDRESS.match(" ".join(words[-2:])):
            return m.group(0)
        if not any(ch.isdigit() for ch in found) and words[0].lower() in _NOT_NAMES:  # "The Green": keep "The"
            if len(words) < 3:
                return m.group(0)
            return m.group(0)[: m.group(0).index(words[1])] + "[ADDRESS]" + m.group(0)[len(found) :]
        return "[ADDRESS]" + m.group(0)[len(found) :]

    for pattern in _ADDRESS_PATTERNS:
        text = pattern.sub(replace, text)
    return text


def _redact_names(text: str, known: set[str] | None = None) -> str:
    found: set[str] = set(known or ())

    def replace(m: re.Match[str]) -> str:
        name = _trim_name(m.group("name"))
        if not name or not _looks_like_name(name):
            return m.group(0)
        found.update(w.strip(".") for w in name.split() if len(w.strip(".")) > 1)
        rest = m.group("name")[len(name) :]
        return m.group("keep") + "[NAME]" + rest

    for pattern in _NAME_CONTEXTS:
        text = pattern.sub(replace, text)
    # A common first name followed by a capitalised surname, anywhere.
    text = re.sub(
        rf"\b(?P<first>{'|'.join(sorted(_COMMON_FIRST_NAMES))})(?P<rest>\s+{_CAP})?\b",
        lambda m: _first_name(m, found),
        text,
    )
    # Every word found as part of a name, wherever else it appears (Patel's, PATEL).
    words = {w for w in found if w.lower() not in _NOT_NAMES and w not in ("NAME",)}
    if words:
        pattern = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", re.IGNORECASE
        )
        text = pattern.sub("[NAME]", text)
    return re.sub(r"\[NAME\](?:\s+\[NAME\])+", "[NAME]", text)


def _first_name(m: re.Match[str], found: set[str]) -> str:
    rest = m.group("rest") or ""
    surname = rest.strip()
    if surname and surname.lower() not in _NOT_NAMES and not surname.startswith("["):
        found.update((m.group("first"), surname))
        return "[NAME]"
    found.add(m.group("first"))
    return "[NAME]" + rest
