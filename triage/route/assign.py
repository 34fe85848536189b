"""Give a classified message its queue, flags and first due date.

The due date is the earliest clock that applies: an emergency hazard's 24 hours (Awaab's Law),
the stage 1 acknowledgement for anything on the complaints register (Code 6.2; not for survey
answers, which are not logged as complaints, 1.6), and the damp-and-mould investigation
(Awaab's Law). Later clocks come from the case once its events are recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from triage.classify.model import Prediction
from triage.message import UK
from triage.route.deadlines import EMERGENCY_HAZARD_HOURS, RULES, add_working_days, stage_deadlines
from triage.route.flags import message_flags
from triage.route.routing import RoutingTable, route


def assign(
    p: Prediction,
    channel: str,
    received_at: datetime | None,
    table: RoutingTable,
    nation: str = "england",
    recorded_as: str | None = None,
) -> dict[str, Any]:
    r = route(table, p.kind, p.themes, p.dissatisfied)
    flags = message_flags(p, channel, recorded_as)
    received = received_at.astimezone(UK) if received_at else None
    clocks: list[tuple[date, str]] = []
    if received is not None:
        rules = {f.rule for f in flags}
        if "emergency_hazard" in rules:
            clocks.append(
                ((received + timedelta(hours=EMERGENCY_HAZARD_HOURS)).date(), "make safe within 24 hours (Awaab's Law)")
            )
        if r.on_complaints_register and channel != "survey":
            clocks.append(
                (
                    stage_deadlines(1, received.date(), nation=nation).acknowledge_by,
                    f"acknowledge the complaint (Code {RULES['stage1_acknowledge'].code})",
                )
            )
        if "damp_mould" in rules:
            clocks.append(
                (
                    add_working_days(received.date(), RULES["damp_investigate"].working_days, nation),
                    "investigate damp and mould (Awaab's Law)",
                )
            )
    due_date, due_what = min(clocks) if clocks else (None, "")
    return {
        "queue": r.queue,
        "on_complaints_register": r.on_complaints_register,
        "route_rule": r.rule,
        "flags": [f.as_dict() for f in flags],
        "due_date": due_date,
        "due_what": due_what,
    }
