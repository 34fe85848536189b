"""Reviewed items as training data: the ``training_data/`` JSONL format, personal data redacted.

Each message's latest decision becomes one record labelled with what the person decided (a
confirmation is a label too: it says the model was right). Records go to
``training_data/reviews/`` by default, which ``triage train --with-reviews`` adds to the
training split only; dev and test are never touched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from triage.labels import CHANNELS
from triage.review.decisions import latest_reviews
from triage.store.db import Store
from triage.store.schema import messages
from triage.text.redact import redact

DEFAULT_OUT = Path("training_data/reviews/reviews.jsonl")
# Sender domains kept (local part dropped) because they say who is writing, not who the person
# is: an MP's office, a council, the NHS. Every other address is dropped.
PUBLIC_DOMAINS = ("parliament.uk", "gov.uk", "nhs.uk", "nhs.net", "police.uk")


def _sender(addr: str) -> str:
    domain = addr.rpartition("@")[2].lower()
    return f"redacted@{domain}" if any(domain == d or domain.endswith("." + d) for d in PUBLIC_DOMAINS) else ""


def record(message: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    names = [message["sender_name"]]
    body = redact(message["body_new"], names)
    if message["body_quoted"].strip():  # kept as a quoted thread, so it is read as context again
        quoted = redact(message["body_quoted"], names)
        body += "\n\n" + "\n".join("> " + line for line in quoted.splitlines())
    return {
        "id": f"rev-{message['id']}",
        "channel": message["channel"] if message["channel"] in CHANNELS else "email",
        "from_name": "",
        "from_addr": _sender(message["sender_addr"]),
        "subject": redact(message["subject"], names),
        "body": body,
        "labels": {
            "kind": decision["kind"],
            "dissatisfied": bool(decision["dissatisfied"]),
            "themes": sorted(decision["themes"]),
        },
        "tags": [f"review:{decision['action']}"],
    }


def export_reviews(store: Store, out: Path = DEFAULT_OUT) -> dict[str, int]:
    """Write one record per reviewed message; returns counts of confirmed and corrected."""
    counts = {"confirmed": 0, "corrected": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = (
        messages.c.id,
        messages.c.channel,
        messages.c.sender_name,
        messages.c.sender_addr,
        messages.c.subject,
        messages.c.body_new,
        messages.c.body_quoted,
    )
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle, store.engine.connect() as conn:
        for decision in latest_reviews(store):
            message = conn.execute(select(*columns).where(messages.c.id == decision["message_pk"])).mappings().first()
            if message is None:
                continue
            handle.write(json.dumps(record(dict(message), decision), ensure_ascii=False) + "\n")
            counts[decision["action"]] = counts.get(decision["action"], 0) + 1
    tmp.replace(out)
    return counts
