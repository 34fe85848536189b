"""A case's stage, Code clocks and history flags, computed from its events and contacts.

Plain functions over plain records, so every rule can be tested without a store. The stage is
never stored by hand: it follows from the events staff record (``received`` at a stage,
``escalated``, ``closed``), so the history and the stage cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from triage.cases.rules import CaseRules
from triage.errors import InputError
from triage.message import UK
from triage.route.deadlines import RULES, add_working_days, extension_too_long, stage_deadlines
from triage.route.flags import Flag, make_flag

STAGES = ("none", "service_request", "stage_1", "stage_2", "closed")
EVENTS = ("received", "acknowledged", "responded", "escalated", "extension_agreed", "closed", "refused")
# Why a complaint may be refused (the Code's exclusions, section 2: 2.2 lists them, 2.3 the 12-month
# limit, 2.4 the explanation owed). A 'refused' event's reason starts with one of these keys.
REFUSAL_REASONS = {
    "over_12_months": "the issue occurred, or the resident became aware of it, over twelve months ago",
    "legal_proceedings": "legal proceedings have started",
    "previously_considered": "the matter was previously considered under the complaints policy",
    "other": "another reason set out in the complaints policy (explained in the reason)",
}
OUTCOMES = ("upheld", "partly_upheld", "not_upheld")
FORMAL_STAGES = {"stage_1": 1, "stage_2": 2}


@dataclass(frozen=True, slots=True)
class Event:
    event: str
    stage: str
    on: date
    extended_to: date | None = None
    reason: str = ""
    outcome: str | None = None
    message_pk: int | None = None
    recorded_by: str = ""
    id: int = 0


@dataclass(frozen=True, slots=True)
class Contact:
    """A message on a case, as the history rules see it."""

    pk: int
    received: datetime | None
    reads_as_complaint: bool  # classified a complaint, or dissatisfied
    subject: str = ""

    @property
    def day(self) -> date | None:
        return self.received.astimezone(UK).date() if self.received else None

    def describe(self) -> str:
        when = f"{self.day:%d %b %Y}" if self.day else "undated"
        return f"#{self.pk} {when}: {self.subject[:60]!r}"


def check_event(event: Event, current_stage: str) -> None:
    """Refuse an event that cannot be right, saying what to record instead."""
    if event.event not in EVENTS:
        raise InputError(f"unknown case event {event.event!r}: use one of {', '.join(EVENTS)}.")
    if event.stage not in STAGES[1:4]:
        raise InputError(f"an event's stage is service_request, stage_1 or stage_2, not {event.stage!r}.")
    if event.event == "extension_agreed":
        if event.extended_to is None or not event.reason.strip():
            raise InputError("an extension needs the new respond-by date (--extended-to) and its reason (--reason).")
        if event.extended_to <= event.on:
            raise InputError("--extended-to must be after the date the extension was agreed.")
    if event.event in ("acknowledged", "responded", "extension_agreed") and event.stage not in FORMAL_STAGES:
        raise InputError(f"{event.event} is recorded against stage_1 or stage_2 (--stage), not {event.stage}.")
    if event.outcome is not None and (event.event != "responded" or event.outcome not in OUTCOMES):
        raise InputError(f"an outcome ({', '.join(OUTCOMES)}) goes on a 'responded' event.")
    if event.event == "refused":
        key = event.reason.split(":", 1)[0].strip()
        if key not in REFUSAL_REASONS or (key == "other" and not event.reason.split(":", 1)[-1].strip()):
            raise InputError(
                "a refusal needs its reason under the Code's exclusions: --reason over_12_months, legal_proceedings, "
                "previously_considered, or 'other: <why>' (a note may follow a colon)."
            )
    if event.event == "escalated" and current_stage not in ("stage_1", "closed"):
        raise InputError(f"only a stage 1 complaint can be escalated; this case is at {current_stage}.")


def ordered(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.on, e.id))


def stage_of(events: list[Event]) -> str:
    stage = "none"
    for e in ordered(events):
        if e.event == "received":
            stage = e.stage
        elif e.event == "escalated":
            stage = "stage_2"
        elif e.event == "closed":
            stage = "closed"
    return stage


@dataclass(frozen=True, slots=True)
class StageTimeline:
    """One formal stage: when it started (receipt, or the escalation request) and what followed."""

    stage: int
    started: date
    acknowledged: date | None = None
    responded: date | None = None
    extended_to: date | None = None
    extension_reason: str = ""

    def deadlines(self, nation: str) -> tuple[date, date]:
        """(acknowledge-by, respond-by without extension), Code 6.2–6.4 and 6.11–6.15."""
        d = stage_deadlines(self.stage, self.started, self.acknowledged, nation)
        return d.acknowledge_by, d.respond_by

    def respond_deadline(self, nation: str) -> date:
        return self.extended_to or self.deadlines(nation)[1]


def timelines(events: list[Event]) -> dict[int, StageTimeline]:
    """The latest run of each formal stage (a case reopened at stage 1 starts a new run)."""
    out: dict[int, dict] = {}
    for e in ordered(events):
        if (e.event == "received" and e.stage in FORMAL_STAGES) or e.event == "escalated":
            n = 2 if e.event == "escalated" else FORMAL_STAGES[e.stage]
            out[n] = {"stage": n, "started": e.on}
            if n == 1:
                out.pop(2, None)
            continue
        n = FORMAL_STAGES.get(e.stage, 0)
        if n not in out:
            continue
        t = out[n]
        if e.event == "acknowledged" and "acknowledged" not in t:
            t["acknowledged"] = e.on
        elif e.event == "responded" and "responded" not in t:
            t["responded"] = e.on
        elif e.event == "extension_agreed":
            t["extended_to"], t["extension_reason"] = e.extended_to, e.reason
    return {n: StageTimeline(**t) for n, t in out.items()}


def escalation_request(events: list[Event], contacts: list[Contact]) -> Contact | None:
    """The first contact reading as dissatisfied after the stage 1 response, when stage 2 has
    not been started since (Code 6.10, 6.11: it is an escalation request)."""
    t = timelines(events)
    if 1 not in t or t[1].responded is None or 2 in t:
        return None
    # Events have dates, not times: a contact on the response day may be the complaint itself.
    after = [c for c in contacts if c.reads_as_complaint and c.day is not None and c.day > t[1].responded]
    return min(after, key=lambda c: (c.received, c.pk)) if after else None


def clock(events: list[Event], contacts: list[Contact], nation: str = "england") -> tuple[date | None, str]:
    """The case's next Code deadline and what is due then, or (None, '') when nothing is."""
    pending = escalation_request(events, contacts)
    if pending is not None and pending.day is not None:
        ack = RULES["stage2_acknowledge"]
        by = add_working_days(pending.day, ack.working_days, nation)
        return by, f"acknowledge the escalation request of {pending.day:%d %b} at stage 2 (Code {ack.code})"
    stage = stage_of(events)
    t = timelines(events)
    current = t.get(2) if stage == "stage_2" else t.get(1) if stage == "stage_1" else None
    if current is None:
        return None, ""
    n = current.stage
    acknowledge_by, _ = current.deadlines(nation)
    if current.acknowledged is None:
        return acknowledge_by, f"acknowledge at stage {n} (Code {RULES[f'stage{n}_acknowledge'].code})"
    if current.responded is None:
        extended = " (extension agreed)" if current.extended_to else ""
        return current.respond_deadline(nation), f"respond at stage {n}{extended} (Code {RULES[f'stage{n}_respond'].code})"
    return None, ""


def breaches(events: list[Event], contacts: list[Contact], today: date | None = None, nation: str = "england") -> list[Flag]:
    """Late acknowledgements and responses, extensions beyond the Code, and escalation requests
    not acted on. With ``today``, deadlines that have passed with nothing recorded count too."""
    flags: list[Flag] = []
    for n, t in sorted(timelines(events).items()):
        started = "received" if n == 1 else "escalation requested"
        acknowledge_by, respond_by = t.deadlines(nation)
        if t.acknowledged and t.acknowledged > acknowledge_by:
            flags.append(
                make_flag(
                    "acknowledgement_late",
                    [f"stage {n} {started} {t.started}; acknowledged {t.acknowledged}, due by {acknowledge_by}"],
                )
            )
        elif t.acknowledged is None and t.responded is None and today and today > acknowledge_by:
            flags.append(
                make_flag("acknowledgement_late", [f"stage {n} {started} {t.started}; not acknowledged, due by {acknowledge_by}"])
            )
        if t.extended_to and extension_too_long(n, respond_by, t.extended_to, nation):
            allowed = RULES[f"stage{n}_respond"].extension_working_days
            flags.append(
                make_flag(
                    "extension_too_long",
                    [
                        f"stage {n} response extended from {respond_by} to {t.extended_to}: more than the "
                        f"{allowed} working days the Code allows; reason given: {t.extension_reason!r}"
                    ],
                )
            )
        deadline = t.respond_deadline(nation)
        if t.responded and t.responded > deadline:
            flags.append(make_flag("response_late", [f"stage {n} responded {t.responded}, due by {deadline}"]))
        elif t.responded is None and today and today > deadline:
            flags.append(make_flag("response_late", [f"stage {n} not responded, due by {deadline}"]))
    pending = escalation_request(events, contacts)
    if pending is not None and pending.day is not None and today:
        by = add_working_days(pending.day, RULES["stage2_acknowledge"].working_days, nation)
        if today > by:
            flags.append(
                make_flag("not_escalated", [f"escalation request {pending.describe()} not escalated to stage 2 by {by}"])
            )
    return flags


def contact_flags(
    events: list[Event],
    earlier: list[Contact],
    new: Contact,
    rules: CaseRules,
    case_label: str,
    nation: str = "england",
) -> list[Flag]:
    """Ghost-stage flags a new message raises from its case's history (labels.md, Flags)."""
    flags: list[Flag] = []
    stage = stage_of(events)
    t = timelines(events)
    day = new.day
    if stage in ("none", "service_request") and day is not None:
        if stage == "service_request" and new.reads_as_complaint:
            since = min((e.on for e in events if e.event == "received" and e.stage == "service_request"), default=None)
            flags.append(
                make_flag(
                    "recorded_outside_process",
                    [f"{case_label} is recorded as a service request" + (f" since {since}" if since else "")],
                )
            )
        window = [c for c in [*earlier, new] if c.day is not None and 0 <= (day - c.day).days < rules.chasing_days]
        if len(window) >= rules.chasing_contacts:
            flags.append(
                make_flag(
                    "repeated_chasing",
                    [f"{len(window)} contacts in {rules.chasing_days} days on {case_label}, no complaint logged"]
                    + [c.describe() for c in sorted(window, key=lambda c: (c.received, c.pk))],
                )
            )
    if day is not None and new.reads_as_complaint:
        if 1 in t and t[1].responded and 2 not in t and day > t[1].responded:
            by = add_working_days(day, RULES["stage2_acknowledge"].working_days, nation)
            flags.append(
                make_flag(
                    "not_escalated",
                    [f"stage 1 response sent {t[1].responded} on {case_label}", f"acknowledge at stage 2 by {by}"],
                )
            )
        if 2 in t and t[2].responded and day > t[2].responded:
            flags.append(make_flag("after_final_response", [f"stage 2 final response sent {t[2].responded} on {case_label}"]))
    return flags
