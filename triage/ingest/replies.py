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

from mailparser_reply.parser import EmailMessage, EmailReply

# Characters that ``re.IGNORECASE`` matches to an ASCII letter but ``str.lower`` does not turn into
# one (or turns into two characters): İ, ı, ſ. Text without them is lower-cased once and searched
# case-sensitively, which gives the same matches at the same places about four times faster.
_FOLD_APART = ("\u0130", "\u0131", "\u017f")


def _lowered(text: str) -> str | None:
    """``text.lower()`` when it matches a lower-case pattern exactly as ``text`` matches the
    pattern with ``re.IGNORECASE`` (same length, same places); None when it may not."""
    return None if any(c in text for c in _FOLD_APART) else text.lower()


# What each reply header mail-parser-reply knows (its HEADER_REGEX for English, below) must
# contain, lower-cased: "On ... wrote:", an Outlook block of "From:", "Sent:", "To:" ... lines, or
# "----- Original Message -----".
LIBRARY_HEADER_PATTERN = (
    r"^(?!On[.\s]*On\s(.+?\s?.+?)\swrote:)((?:> ?)*On\s(?:.+?\s?.+?)\s?wrote:)$|((?:(?:^|\n|\n(?:> ?)*)[* ]*"
    r"(?:From|Sent|To|Subject|Date|Cc|Organization):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})|(^-{5,} ?Original Message ?-{5,}$)"
)
_HEADER_MARKERS = ("wrote:", "original message", "from:", "sent:", "to:", "subject:", "date:", "cc:", "organization:")


# What the library's rule fix-up (``([^\n])(\n{2,} ?[_-]{32,})``, in its _normalize_text) must contain.
_LIBRARY_RULE = re.compile(r"\n\n ?[_-]{32}")


class _Replies(EmailMessage):
    """mail-parser-reply's splitter without its signature and disclaimer search: we keep only each
    reply's content (which does not depend on them) and find signatures ourselves, so the search
    was a tenth of parsing time spent on a result thrown away."""

    def _process_signatures_disclaimers(self, text: str) -> tuple[list[str], str]:
        return [], ""


def _reply_contents(head: str) -> list[str]:
    """The content of each reply mail-parser-reply finds in ``head``. Text that cannot hold a
    reply header (most new text) is not searched for one: it is one reply, the text with each line
    stripped, as the library reads it. The search and the library's set-up were half the time of
    separating replies."""
    text = "\n".join([line.strip() for line in head.replace("\r\n", "\n").split("\n")])  # the library's normalising
    low = _lowered(text)
    if low is None or _LIBRARY_RULE.search(text) or any(marker in low for marker in _HEADER_MARKERS):
        return [r.content for r in _Replies(text=head, languages=["en"]).read().replies]
    return [EmailReply(content=text).content]


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
_DISCLAIMER_LOWER = re.compile(_DISCLAIMER.pattern)  # for lower-cased text (see _lowered)
# Each alternative of _DISCLAIMER holds one of these words (the first ends in one of the four
# adjectives): lower-cased text with none of them cannot match, and is not searched.
_DISCLAIMER_WORDS = (
    "confidential",
    "private",
    "intended",
    "privileged",
    "if you ",
    "views ",
    "monitored",
    "please consider",
    "freedom of information",
)
_BANNER = re.compile(
    r"^\s*(\[?external\]?:?|caution:|warning:|this (e-?mail|message) (originated|came) from outside)"
    r".{0,200}(outside|external|links|attachments|sender).*$",
    re.IGNORECASE,
)
_SIG_DASHES = re.compile(r"^--\s?$")
# Where the quoted thread starts: one multiline pattern, searched once (a per-line loop in
# Python cost more than the rest of parsing on long threads).
_QUOTE_START = re.compile(
    r"^(?:"
    r">"  # "> " quoted lines
    r"|on\b[^\n]{0,200}?(?:\n[^\n]{0,200}?)?\bwrote:[ \t]*$"  # On <date>, <name> wrote: (may wrap once)
    r"|-{3,}\s*original message\s*-{3,}"
    r"|-{2,}\s*(?:forwarded message|begin forwarded message)|begin forwarded message:"
    r"|_{10,}[ \t]*\n(?:[ \t]*\n)*[ \t]*\*?from:"  # Outlook web: a rule, then From:
    r"|\*?from:\*?[ \t]+\S[^\n]*\n(?:[^\n]*\n)?[ \t]*\*?(?:sent|date):\*?[ \t]+\S"  # Outlook header block
    r")",
    re.IGNORECASE | re.MULTILINE,
)
# Every alternative above starts with one of these characters (the only characters
# ``re.IGNORECASE`` matches to o, b or f are O, B and F), so only lines starting with one are tried:
# the search found the same place by trying the whole pattern at every character of the text.
_QUOTE_CANDIDATE = re.compile(r"\n[>oObB_*fF-]")


def _quote_start(text: str) -> re.Match[str] | None:
    """``_QUOTE_START.search(text)``."""
    if match := _QUOTE_START.match(text):
        return match
    for line in _QUOTE_CANDIDATE.finditer(text):
        if match := _QUOTE_START.match(text, line.start() + 1):
            return match
    return None


@dataclass(slots=True)
class BodyParts:
    new: str
    quoted: str
    signature: str


def split_body(text: str) -> BodyParts:
    """Split a plain-text body. Lines are kept in their parts; nothing is dropped."""
    if "\r" in text:  # most text has none: no copies then
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return BodyParts("", "", "")
    head, tail = _cut_at_quote_start(text)
    # The library looks for reply headers our pattern does not know. It is given only the text
    # above the quote start (it is slow on long threads); its signature guesses are too eager
    # for residents' mail ("Thanks, all sorted now." is a message, not a sign-off), so the first
    # reply is kept whole and our own rules below find the signature.
    try:
        replies = _reply_contents(head) if head.strip() else []
    except Exception:  # a reply parser failure must never lose the body
        replies = []
    if replies:
        new = replies[0]
        quoted_parts = replies[1:]
    else:
        new, quoted_parts = head, []
    quoted = "\n\n".join(p for p in [*quoted_parts, tail] if p and p.strip())
    new, banner = _strip_banner(new)
    new, furniture = _strip_trailing_furniture(new)
    signature = "\n".join(p for p in (banner, furniture) if p).strip()
    return BodyParts(new.strip(), quoted.strip(), signature)


def _cut_at_quote_start(text: str) -> tuple[str, str]:
    match = _quote_start(text)
    if match is None or not text[: match.start()].strip():
        # Nothing quoted, or the message *starts* with a quote/forward: then look for the
        # first marker after some new text, if any; otherwise there is no new text at all.
        if match is None:
            return text, ""
        if text.lstrip().startswith(">"):
            return _bottom_posted(text)
        return "", text
    return text[: match.start()], text[match.start() :]


def _bottom_posted(text: str) -> tuple[str, str]:
    """A reply written under (or between) "> " quoted lines: unquoted lines are the new text,
    up to any further quote header such as "On ... wrote:"."""
    new_lines, quoted_lines = [], []
    for line in text.split("\n"):
        (quoted_lines if line.lstrip().startswith(">") else new_lines).append(line)
    new = "\n".join(new_lines)
    head, tail = _cut_at_quote_start(new) if new.strip() and not new.lstrip().startswith(">") else (new, "")
    return head, "\n".join(quoted_lines) + ("\n" + tail if tail else "")


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
    # Disclaimers: among the last 39 lines, the paragraph of the first line that reads like one,
    # and all after it. (A match never spans lines: the pattern has no line breaks or \s.)
    first = max(0, len(lines) - 39)
    block = "\n".join(lines[first:])
    low = _lowered(block)
    if low is None:
        match = _DISCLAIMER.search(block)
    else:
        match = _DISCLAIMER_LOWER.search(low) if any(word in low for word in _DISCLAIMER_WORDS) else None
    if match:
        start = first + block.count("\n", 0, match.start())
        while start > 0 and lines[start - 1].strip():
            start -= 1
        cut = start
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
