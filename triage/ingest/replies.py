"""Separate a body into the new text, the quoted earlier messages and the signature.

mail-parser-reply finds the reply headers ("On ... wrote:", Outlook "From: ... Sent: ..."
blocks, "-----Original Message-----") and common signatures. On top of it we handle what UK
council and housing-association mail looks like: "Kind regards" sign-offs followed by a name,
address and phone number, confidentiality disclaimers, "[EXTERNAL] / CAUTION: this email
originated outside" banners, and "Sent from my ..." lines. Nothing is thrown away: the three
parts together hold every line of the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

_PARSER = EmailReplyParser(languages=["en"])

_SIGN_OFF = re.compile(
    r"^\s*(kind(est)? regards|warm(est)? regards|best regards|regards|many thanks|thanks( again| very much)?|"
    r"thank you( very much)?|thanks in advance|yours (sincerely|faithfully|truly)|best wishes|all the best|"
    r"best|cheers|respectfully|sincerely|with thanks|with regards|take care|ta|thx)\s*[,.!]*\s*$",
    re.IGNORECASE,
)
_DEVICE_LINE = re.compile(
    r"^\s*(sent from (my )?(iphone|ipad|samsung|android|galaxy|mobile|huawei|outlook|mail for windows)|"
    r"get outlook for (ios|android)|sent from yahoo mail|sent via|sent using)\b.*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"(this (e-?mail|message|communication)( and any (files|attachments)( transmitted with it)?)? "
    r"(is|are|may be|contains?) (strictly )?(confidential|private|intended|privileged)|"
    r"if you (are not the intended recipient|have received this (e-?mail|message|communication) in error)|"
    r"views (or opinions )?expressed in this (e-?mail|message)|"
    r"e-?mails? (sent to or from|to and from) .{0,60}(may be )?monitored|"
    r"please consider the environment before printing|"
    r"subject to the freedom of information act)",
    re.IGNORECASE,
)
_BANNER = re.compile(
    r"^\s*(\[?external\]?:?|caution:|warning:|this (e-?mail|message) (originated|came) from outside)"
    r".{0,200}(outside|external|links|attachments|sender).*$",
    re.IGNORECASE,
)
_SIG_DASHES = re.compile(r"^--\s?$")
_UNDERSCORE_RULE = re.compile(r"^\s*_{10,}\s*$")
_FORWARD_MARK = re.compile(r"^\s*-{2,}\s*(forwarded message|begin forwarded message)|^\s*begin forwarded message:", re.I)
_OUTLOOK_FROM = re.compile(r"^\s*\*?from:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(sent|date):\*?\s+\S", re.IGNORECASE)


@dataclass(slots=True)
class BodyParts:
    new: str
    quoted: str
    signature: str


def split_body(text: str) -> BodyParts:
    """Split a plain-text body. Lines are kept in their parts; nothing is dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return BodyParts("", "", "")
    head, tail = _cut_at_quote_start(text)
    try:
        replies = _PARSER.read(head).replies
    except Exception:  # a reply parser failure must never lose the body
        replies = []
    # The library finds where quoting starts; its signature guesses are too eager for
    # residents' mail ("Thanks, all sorted now." is a message, not a sign-off), so the
    # first reply is kept whole and our own rules below find the signature.
    if replies:
        new = replies[0].content
        quoted_parts = [r.content for r in replies[1:]]
    else:
        new, quoted_parts = head, []
    quoted = "\n\n".join(p for p in [*quoted_parts, tail] if p and p.strip())
    new, banner = _strip_banner(new)
    new, furniture = _strip_trailing_furniture(new)
    signature = "\n".join(p for p in (banner, furniture) if p).strip()
    return BodyParts(new.strip(), quoted.strip(), signature)


def _cut_at_quote_start(text: str) -> tuple[str, str]:
    """Cut at the first marker the library may miss: an Outlook web underscore rule
    followed by a From: line, or a forwarded-message marker."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        nxt = next((ln for ln in lines[i + 1 : i + 4] if ln.strip()), "")
        if _UNDERSCORE_RULE.match(line) and _OUTLOOK_FROM.match(nxt):
            return "\n".join(lines[:i]), "\n".join(lines[i:])
        if _FORWARD_MARK.match(line):
            return "\n".join(lines[:i]), "\n".join(lines[i:])
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(x) for x in lines[i + 1 : i + 3]) and i > 0:
            return "\n".join(lines[:i]), "\n".join(lines[i:])
    return text, ""


def _strip_banner(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    for i, line in enumerate(lines[:3]):
        if _BANNER.match(line):
            return "\n".join(lines[:i] + lines[i + 1 :]), line.strip()
    return text, ""


def _strip_trailing_furniture(text: str) -> tuple[str, str]:
    """Move a closing sign-off block, device lines and disclaimers to the signature."""
    lines = text.rstrip().split("\n")
    cut = len(lines)
    # Disclaimers: the first paragraph from the end that reads like one, and all after it.
    for i in range(len(lines) - 1, max(-1, len(lines) - 40), -1):
        if _DISCLAIMER.search(lines[i]):
            start = i
            while start > 0 and lines[start - 1].strip():
                start -= 1
            cut = min(cut, start)
    for i in range(len(lines) - 1, -1, -1):
        if _DEVICE_LINE.match(lines[i]) or (_SIG_DASHES.match(lines[i]) and len(lines) - i <= 12):
            cut = min(cut, i)
    # A sign-off within the last lines, followed only by short lines (name, address, phone).
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
