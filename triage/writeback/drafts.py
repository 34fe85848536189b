"""Acknowledgement drafts for new complaints: APPENDed to a Drafts folder with \\Draft, never
sent. A person reads, edits and sends them. Off by default."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from imapclient import IMAPClient

from triage.ingest.imap.checkpoint import Pending
from triage.ingest.imap.config import ImapSource
from triage.message import UK
from triage.route.deadlines import RULES, stage_deadlines
from triage.writeback.actions import ensure_folder

# The Code's definition (1.2), as the classifier was taught to apply it (labels.md).
COMPLAINT_DEFINITION = (
    "an expression of dissatisfaction, however made, about the standard of service, actions or lack of action "
    "by the landlord, its own staff, or those acting on its behalf, affecting a resident or group of residents"
)


def wanted(source: ImapSource, p: Pending) -> bool:
    return source.drafts.enabled and p.new and p.kind == "complaint" and p.message is not None


def draft_message_id(p: Pending) -> str:
    """Deterministic, so a draft written before a crash is found and not written twice."""
    assert p.message is not None
    return f"<triage-ack-{hashlib.sha256(p.message['sha256'].encode()).hexdigest()[:32]}@triage.invalid>"


def build(source: ImapSource, p: Pending, nation: str = "england", now: datetime | None = None) -> bytes:
    """The acknowledgement text: the complaint as understood, and the Code's deadlines."""
    assert p.message is not None
    m = p.message
    received = (m["received_at"] or now or datetime.now(UTC)).astimezone(UK)
    # This draft is the acknowledgement, so the response is counted from the day it is written
    # (Code 6.3); sent later, the promised date is earlier than the Code's, never later.
    written = (now or datetime.now(UTC)).astimezone(UK).date()
    d = stage_deadlines(1, received.date(), acknowledged=max(written, received.date()), nation=nation)
    ack, resp = RULES["stage1_acknowledge"], RULES["stage1_respond"]
    first_lines = " ".join((m["body_new"] or "").split())[:400]
    name = m["sender_name"] or "resident"
    body = f"""Dear {name},

Thank you for your email of {received:%A %d %B %Y}, subject "{m["subject"]}".

We are treating it as a complaint under our complaints policy. The Housing Ombudsman's Complaint
Handling Code defines a complaint as {COMPLAINT_DEFINITION}.

We understand your complaint to be about: {first_lines or "(please see your email)"}

If we have misunderstood, please reply and tell us; we will correct our record.

What happens next (stage 1):
- This email acknowledges your complaint (we must do so within {ack.working_days} working days, by {d.acknowledge_by:%A %d %B %Y}, Code {ack.code}).
- We will send you our full response by {d.respond_by:%A %d %B %Y} ({resp.working_days} working days from the acknowledgement, Code {resp.code}).
- If we need more time we will tell you why and agree a new date; without good reason that will not be later than {d.extended_respond_by:%A %d %B %Y}.
- If you are unhappy with our stage 1 response you can ask us to review it at stage 2, and you can
  contact the Housing Ombudsman at any time.

Yours sincerely,
{source.drafts.signature}
"""
    msg = EmailMessage()
    msg["From"] = source.drafts.from_address or source.username
    msg["To"] = m["sender_addr"] or ""
    subject = m["subject"] or "your complaint"
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = draft_message_id(p)
    if m["message_id"]:
        msg["In-Reply-To"] = m["message_id"]
        msg["References"] = m["message_id"]
    msg["X-Triage"] = "acknowledgement draft: check and edit before sending"
    msg.set_content(body)
    return msg.as_bytes()


def write_all(client: IMAPClient, source: ImapSource, items: list[Pending], delimiter: str, nation: str = "england") -> int:
    """APPEND a draft for each new complaint unless one is already there; returns how many were
    written. Leaves the Drafts folder selected read-only (EXAMINE): the caller selects its own
    folder again. CLOSE is never used, because CLOSE expunges."""
    due = [p for p in items if wanted(source, p)]
    if not due:
        return 0
    folder = source.drafts.folder.replace("/", delimiter or "/")
    ensure_folder(client, folder)
    client.select_folder(folder, readonly=True)
    written = 0
    for p in due:
        if client.search(["HEADER", "Message-ID", draft_message_id(p)]):
            continue
        client.append(folder, build(source, p, nation), flags=(b"\\Draft",))
        written += 1
    return written
