"""Recognise auto-replies, delivery failures and bulk mail from their headers.

These are marked, never dropped: a bounce of the landlord's own reply to a complaint is
evidence that the resident was not told, and an auto-reply may hide a real message below.
"""

from __future__ import annotations

from collections.abc import Callable

_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@", "mailer-daemon ", "<mailer-daemon")


def detect(get: Callable[[str], str], content_type: str, report_type: str) -> tuple[str, str] | None:
    """Return ``(automated_type, reason)`` or None for mail written by a person.

    ``get(name)`` returns the header's value lower-cased and stripped ("" when absent);
    ``content_type`` is the top-level type and ``report_type`` its report-type parameter.
    """
    if content_type == "multipart/report":
        if report_type == "delivery-status":
            return "bounce", "multipart/report delivery status notification"
        if report_type == "disposition-notification":
            return "auto_reply", "multipart/report read receipt (disposition notification)"
        if report_type == "feedback-report":
            return "bounce", "multipart/report abuse feedback report"
        return "bounce", f"multipart/report ({report_type or 'no report-type'})"
    if content_type == "message/delivery-status":
        return "bounce", "message/delivery-status notification"

    sender = get("from")
    return_path = get("return-path")
    if any(s in sender for s in _BOUNCE_SENDERS):
        return "bounce", f"sent by a mail server ({sender[:60]})"

    auto_submitted = get("auto-submitted")
    if auto_submitted and auto_submitted != "no":
        return "auto_reply", f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponse"):
        if get(name):
            return "auto_reply", f"{name.title()}: {get(name)}"
    suppress = get("x-auto-response-suppress")
    if suppress and suppress not in ("none", "false"):
        return "auto_reply", f"X-Auto-Response-Suppress: {suppress}"

    precedence = get("precedence")
    if precedence == "auto_reply":
        return "auto_reply", "Precedence: auto_reply"
    if precedence in ("bulk", "list", "junk"):
        return "bulk", f"Precedence: {precedence}"
    if get("list-id"):
        return "bulk", f"List-Id: {get('list-id')[:80]}"
    if get("list-unsubscribe"):
        return "bulk", "List-Unsubscribe header (mailing list or marketing)"

    if return_path in ("<>", "< >"):
        return "auto_reply", "Return-Path: <> (null sender, used only by automatic mail)"
    return None
