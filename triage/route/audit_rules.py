"""The register audit's own reading of a row's text, on top of the classifier's.

A register row is not an email: it is a line a member of staff wrote, often quoting the
resident, sometimes with an old thread pasted under it. The classifier (``triage.classify``)
reads whole messages; these rules correct the cases a complaints lead pointed out as wrong:

- **Quoted threads**: only the new text is read, so a rebooking written above an old angry
  thread is not a complaint (``new_text``).
- **Short dissatisfaction the model misses**: angry chasers ("any update??", "still waiting!!"),
  one-line survey answers ("Rubbish. Nobody turned up.") and sarcasm ("thanks for nothing",
  "great job, only took four visits") (``dissatisfaction_cues``).
- **Disputes between neighbours**: dissatisfaction with a neighbour, not with the landlord, is a
  service request (the Code's definition of a complaint is about the landlord's service), unless
  the text also says the landlord failed to act (``neighbour_dispute``).
- **Neutral MP enquiries**: an MP asking for information is not a complaint through a
  representative unless the text says someone is dissatisfied (``dissatisfaction_cues``).
- **Earlier ghost stages**: a row already recorded at stage 1 or 2 whose text mentions an
  earlier "informal complaint" or "stage 0" is evidence of a ghost stage *before* it, reported
  in its own list linked to the row, not a ghost stage of this row (done in ``triage.route.audit``).

Each rule returns the phrases it matched: they are the evidence shown beside the flag.
"""

from __future__ import annotations

import re

from triage.ingest.replies import split_body

_CHASER = re.compile(
    r"\bany (?:update|news|progress|joy)\b[^.!\n]{0,40}\?"
    r"|\?{2,}|!{2,}"
    r"|\bstill (?:waiting|no |not |nothing|broken|leaking)"
    r"|\b(?:chasing|chased)\b"
    r"|\b(?:yet )?again\b[^.\n]{0,30}\b(?:nobody|no one|no-one|cancel+ed|missed|ignored)\b"
    r"|\b(?:nobody|no one|no-one)\b[^.\n]{0,20}\b(?:came|turned up|called|rang|replied)\b[^.\n]{0,10}\bagain\b"
    r"|\byet again\b|\bhello\?|\banyone there\b|\bheard nothing\b|\b(?:emails?|calls?|messages?) ignored\b"
    r"|\bactually going to\b",
    re.IGNORECASE,
)
_SARCASM = re.compile(
    r"\bthanks? (?:you )?for nothing\b"
    r"|\b(?:oh )?(?:brilliant|great|fantastic|wonderful|marvellous|lovely)\b[^.\n]{0,40}"
    r"\b(?:another|again|still|only took|as usual|missed|cancel+ed)\b"
    r"|\bwell done\b[^.\n]{0,40}\b(?:still|weeks?|months?|no )"
    r"|\bas usual\b|\breally impressed\b|\bonly took (?:\w+ )?(?:visits|weeks|months|attempts)\b|\byeah right\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:rubbish|useless|shocking|terrible|awful|appalling|disgrace(?:ful)?|disgusted|disgusting|pathetic|"
    r"a joke|ridiculous|unbelievable|not good enough|waste of (?:time|a day)|waited in all day|for nothing|"
    r"unhappy|dissatisfied|not happy|fed up|angry|upset|frustrated|distressed|let down|"
    r"failed|failure|failing|poor (?:service|communication|workmanship)|not done right|not fixed|"
    r"ignored|no reply|no response|not (?:been )?returned|never (?:came|turned up|replied|did|visited)|"
    r"done nothing|doing nothing|nothing (?:has been )?done|not taking it seriously|"
    r"(?:three|four|five|six|several|\d+) times|complain(?:t|ed|ing|s)?)\b",
    re.IGNORECASE,
)
_NOT_A_COMPLAINT = re.compile(
    r"\b(?:not|no|never) (?:making |make |wish(?:ing)? to make |want(?:ing)? to make )?(?:a )?complain(?:t|ing)?\b"
    r"|\bnot a complaint\b|\bno complaint\b",
    re.IGNORECASE,
)
_NEIGHBOUR = re.compile(
    r"\bneighbou?rs?(?:'s?)?\b|\bnext door\b|\b(?:upstairs|downstairs) (?:flat|neighbou?r)\b|\bflat (?:above|below)\b",
    re.IGNORECASE,
)
# The landlord's own failure, which makes a neighbour dispute a complaint about the landlord.
_LANDLORD_FAILED = re.compile(
    r"\b(?:promised|never (?:did|came|visited|replied|called)|not (?:been )?returned|no one has|nobody has|ignored|"
    r"done nothing|doing nothing|failed|failing to act|no response|no reply|"
    r"(?:three|four|five|six|several|\d+) times)\b",
    re.IGNORECASE,
)


def new_text(text: str) -> str:
    """The row's own words: a thread pasted under it ("On ... wrote:", "> ", an Outlook
    header block, "-----Original Message-----") is left out; the whole text when nothing is."""
    parts = split_body(text)
    return parts.new or text


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    return [m.group(0).strip() for m in pattern.finditer(text)]


def dissatisfaction_cues(text: str) -> list[str]:
    """Phrases that say the writer is dissatisfied with the service: chasers, sarcasm, negative
    words. Empty when the text says it is not a complaint."""
    if _NOT_A_COMPLAINT.search(text):
        return []
    return _found(_CHASER, text) + _found(_SARCASM, text) + _found(_NEGATIVE, text)


def neighbour_dispute(text: str) -> bool:
    """The text is about a neighbour and does not say the landlord failed to act."""
    return bool(_NEIGHBOUR.search(text)) and not _LANDLORD_FAILED.search(text)
