"""What a report is computed from, in one plain form, whatever the source.

Two sources fill the same :class:`Inputs`:

- the store (:func:`from_store`): contacts are counted in SQL (``GROUP BY``), never pulled row
  by row, so a million messages cost seconds; complaint stages come from the case events;
- a landlord's register (:func:`from_register`): one row per complaint stage (a stage 2
  escalation is its own row with the same reference), read with the audit's column map.

Contacts are counted by period and kind, complaint contacts by theme, flags by rule and service
area; complaints are :class:`ComplaintStage` records, one per complaint per stage, with the
dates the Code's timescales are measured from. Inputs from both sources add up (``+``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Join, Select, Text, and_, case, cast, exists, func, literal, null, select, true, union_all
from sqlalchemy.sql import ColumnElement

from triage.errors import ColumnError, InputError
from triage.ingest.register import ValueProblem, date_value, read_register, stage_value
from triage.labels import THEMES
from triage.message import UK
from triage.route.flags import normalise_category
from triage.store.db import Store
from triage.store.schema import case_events, case_messages, cases, classifications, messages

if TYPE_CHECKING:
    from triage.learning.figures import LearningRecords
    from triage.route.audit import RegisterMap

OUTCOMES: tuple[str, ...] = ("upheld", "partly_upheld", "not_upheld")
STAGES: tuple[int, ...] = (1, 2)
EXCERPT_POOL = 4000  # most recent complaint messages read for excerpts


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: date
    end: date  # inclusive

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end + 1 day) as UTC instants of UK midnights."""
        lo = datetime.combine(self.start, time(), UK).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(), UK).astimezone(UTC)
        return lo, hi


def make_periods(start: date, end: date, by: str = "month") -> list[Period]:
    """Calendar months or quarters (Jan, Apr, Jul, Oct: the financial-year quarters) covering
    ``start``..``end``, the first and last cut to the range."""
    if end < start:
        raise InputError(f"--to {end} is before --from {start}: give the first and last day of the report.")
    step = {"month": 1, "quarter": 3}[by]
    out: list[Period] = []
    month0 = (start.month - 1) // step * step + 1
    cursor = date(start.year, month0, 1)
    while cursor <= end:
        nxt = date(cursor.year + (cursor.month - 1 + step) // 12, (cursor.month - 1 + step) % 12 + 1, 1)
        last = min(end, nxt - timedelta(days=1))
        first = max(start, cursor)
        label = f"{cursor:%b %Y}" if by == "month" else f"{cursor:%b}–{nxt - timedelta(days=1):%b %Y}"
        out.append(Period(label, first, last))
        cursor = nxt
    return out


@dataclass(slots=True)
class ComplaintStage:
    """One complaint at one stage: the dates its Code clock is measured from."""

    reference: str
    stage: int  # 1 or 2
    received: date  # stage 1: receipt; stage 2: the escalation request
    acknowledged: date | None = None
    responded: date | None = None
    extended_to: date | None = None  # the agreed new respond-by date
    extension_agreed: bool = False
    outcome: str | None = None  # upheld | partly_upheld | not_upheld
    service_area: str = ""
    themes: tuple[str, ...] = ()
    reopenings: int = 0  # times reopened at this stage after the first (counted once)


@dataclass
class Inputs:
    periods: list[Period]
    sources: list[str] = field(default_factory=list)
    kind_counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (period, kind)
    theme_counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (period, theme) among complaint contacts
    complaint_contacts: Counter[int] = field(default_factory=Counter)  # period -> complaint contacts
    flag_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (type, rule, service area)
    flagged_contacts: Counter[str] = field(default_factory=Counter)  # type -> contacts with such a flag
    case_flags: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, rule) -> cases (deadline breaches)
    flags_known: bool = False  # False for a register: it records no flags
    complaints: list[ComplaintStage] = field(default_factory=list)
    excerpts: dict[str, list[str]] = field(default_factory=dict)  # theme -> raw texts, newest first
    refusals: Counter[str] = field(default_factory=Counter)  # Code exclusion key -> complaints refused in the range
    kind_areas: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, service area) over the range
    kind_themes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, theme) over the range
    bad_rows: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    learning: LearningRecords | None = None  # the store's learning outcomes and commitments

    def __add__(self, other: Inputs) -> Inputs:
        merged = Inputs(self.periods, self.sources + other.sources)
        for name in (
            "kind_counts",
            "theme_counts",
            "complaint_contacts",
            "flag_counts",
            "flagged_contacts",
            "case_flags",
            "kind_areas",
            "kind_themes",
            "refusals",
        ):
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        merged.flags_known = self.flags_known or other.flags_known
        merged.complaints = self.complaints + other.complaints
        merged.excerpts = {t: self.excerpts.get(t, []) + other.excerpts.get(t, []) for t in {*self.excerpts, *other.excerpts}}
        merged.bad_rows = self.bad_rows + other.bad_rows
        merged.notes = self.notes + other.notes
        merged.learning = self.learning or other.learning
        return merged


# -- the store ------------------------------------------------------------------------------
def _period_of(column: ColumnElement, periods: list[Period]) -> ColumnElement:
    """A CASE giving the index of the period a timestamp falls in (UK midnights, as UTC)."""
    return case(*[(column < p.utc_bounds()[1], i) for i, p in enumerate(periods)], else_=None)


def _latest_classification(conn: Connection) -> ColumnElement[bool]:
    """Only the newest classification of each message (a message re-classified by a newer model
    counts once). When no message has two (the usual case) the filter is skipped: it costs a
    probe per row."""
    c = classifications
    twice = conn.execute(select(c.c.message_pk).group_by(c.c.message_pk).having(func.count() > 1).limit(1)).first()
    if twice is None:
        return true()
    newer = c.alias("newer")
    return ~exists().where(and_(newer.c.message_pk == c.c.message_pk, newer.c.id > c.c.id))


def from_store(store: Store, periods: list[Period]) -> Inputs:
    """Counts of the store's contacts received in the periods, its complaint stages, and its
    learning outcomes and commitments."""
    from triage.learning.figures import load_records

    inputs = Inputs(periods, [f"store {store.url}"], flags_known=True)
    lo, hi = periods[0].utc_bounds()[0], periods[-1].utc_bounds()[1]
    c, m = classifications, messages
    joined = m.join(c, c.c.message_pk == m.c.id)
    period = _period_of(m.c.received_at, periods).label("period")
    with store.engine.connect() as conn:
        latest = _latest_classification(conn)
        in_range = and_(m.c.received_at >= lo, m.c.received_at < hi, latest)
        hint = _scan_hint(conn, store.is_sqlite, lo, hi)
        # One pass: contacts by period, kind and theme set; the theme sets are few.
        themes_text = cast(c.c.themes, Text).label("themes")
        query = hint(select(period, c.c.kind, themes_text, c.c.queue, func.count()).select_from(joined).where(in_range))
        for p, kind, themes, queue, n in conn.execute(query.group_by(period, c.c.kind, themes_text, c.c.queue)):
            inputs.kind_counts[(p, kind)] += n
            inputs.kind_areas[(kind, queue or "")] += n
            for theme in json.loads(themes) if themes else []:
                inputs.kind_themes[(kind, theme)] += n
            if kind == "complaint":
                inputs.complaint_contacts[p] += n
                for theme in json.loads(themes) if themes else []:
                    inputs.theme_counts[(p, theme)] += n
        _store_flags(conn, store.is_sqlite, joined, in_range, hint, inputs)
        _store_excerpts(conn, joined, in_range, inputs)
        inputs.complaints = _store_complaints(conn, periods, latest)
        refused = select(case_events.c.reason).where(
            case_events.c.event == "refused", case_events.c.on >= periods[0].start, case_events.c.on <= periods[-1].end
        )
        for (reason,) in conn.execute(refused):
            inputs.refusals[(reason or "other").split(":", 1)[0].strip()] += 1
        _store_case_flags(conn, store.is_sqlite, periods, inputs)
        inputs.learning = load_records(conn)
        undated = conn.execute(select(func.count()).select_from(m).where(m.c.received_at.is_(None))).scalar_one()
    if undated:
        inputs.notes.append(f"{undated} stored messages have no received date and are not counted.")
    return inputs


def _scan_hint(conn: Connection, is_sqlite: bool, lo: datetime, hi: datetime) -> Callable[[Select], Select]:
    """SQLite reads a range of messages through the received_at index and probes each one's
    classification: right for a month of a large store, 3x slower than scanning the
    classifications when the range holds most of the store. So when it holds more than a
    quarter, tell SQLite not to use the index (PostgreSQL's planner chooses well by itself)."""
    m = messages
    if is_sqlite:
        in_range = conn.execute(select(func.count()).where(m.c.received_at >= lo, m.c.received_at < hi)).scalar_one()
        everything = conn.execute(select(func.count()).select_from(m)).scalar_one()
        if in_range > everything / 4:
            return lambda query: query.with_hint(m, "NOT INDEXED", dialect_name="sqlite")
    return lambda query: query


def _store_flags(
    conn: Connection,
    is_sqlite: bool,
    joined: Join,
    in_range: ColumnElement[bool],
    hint: Callable[[Select], Select],
    inputs: Inputs,
) -> None:
    """Flags by type, rule and queue, and contacts with a flag of each type, in one pass: the
    JSON lists are unpacked in SQL (json_each on SQLite, json_array_elements on PostgreSQL) into
    a common table expression read by both counts; rows with no flags are skipped first."""
    c = classifications
    j, ftype, frule = _json_list(is_sqlite, c.c.flags)
    unpacked = select(c.c.id.label("id"), ftype.label("type"), frule.label("rule"), c.c.queue.label("queue"))
    f = hint(unpacked.select_from(joined.join(j, true())).where(in_range, cast(c.c.flags, Text) != "[]")).cte("f")
    by_rule = select(literal("rule").label("what"), f.c.type, f.c.rule, f.c.queue, func.count()).group_by(
        f.c.type, f.c.rule, f.c.queue
    )
    contacts = select(literal("contacts"), f.c.type, null(), null(), func.count(func.distinct(f.c.id))).group_by(f.c.type)
    for what, kind, rule, queue, n in conn.execute(union_all(by_rule, contacts)):
        if what == "rule":
            inputs.flag_counts[(kind, rule, queue or "")] += n
        else:
            inputs.flagged_contacts[kind] += n


def _json_list(is_sqlite: bool, column: ColumnElement) -> tuple[Any, ColumnElement, ColumnElement]:
    """A JSON list of flags unpacked in SQL: (the table-valued function, its type, its rule)."""
    if is_sqlite:
        j = func.json_each(column).table_valued("value").alias("j")
        return j, func.json_extract(j.c.value, "$.type"), func.json_extract(j.c.value, "$.rule")
    j = func.json_array_elements(column).table_valued("value").alias("j")
    return j, j.c.value.op("->>")("type"), j.c.value.op("->>")("rule")


def _store_case_flags(conn: Connection, is_sqlite: bool, periods: list[Period], inputs: Inputs) -> None:
    """Flags the case rules keep on the case itself (Code deadline breaches), for cases not
    merged away with an event in the range, by type and rule."""
    e = case_events
    relevant = select(e.c.case_pk).where(e.c.on >= periods[0].start, e.c.on <= periods[-1].end).distinct()
    j, ftype, frule = _json_list(is_sqlite, cases.c.flags)
    ftype, frule = ftype.label("type"), frule.label("rule")
    query = (
        select(ftype, frule, func.count(func.distinct(cases.c.id)))
        .select_from(cases.join(j, true()))
        .where(cases.c.merged_into.is_(None), cases.c.id.in_(relevant), cast(cases.c.flags, Text) != "[]")
        .group_by(ftype, frule)
    )
    for kind, rule, n in conn.execute(query):
        inputs.case_flags[(kind, rule)] += n


def _store_excerpts(conn, joined, in_range, inputs: Inputs) -> None:
    c, m = classifications, messages
    query = (
        select(c.c.themes, m.c.subject, m.c.body_new)
        .select_from(joined)
        .where(in_range, c.c.kind == "complaint", c.c.needs_review.is_(False))
        .order_by(m.c.received_at.desc(), m.c.id.desc())
        .limit(EXCERPT_POOL)
    )
    for themes, _subject, body in conn.execute(query):
        for theme in themes or []:
            pool = inputs.excerpts.setdefault(theme, [])
            if len(pool) < 10 and len((body or "").strip()) >= 40:
                pool.append(body)


def _store_complaints(conn: Connection, periods: list[Period], latest: ColumnElement[bool]) -> list[ComplaintStage]:
    """Complaint stages from the case events of cases (not merged away) with any event in the
    report's range, so a complaint received before it but answered within it is counted as
    answered."""
    lo, hi = periods[0].start, periods[-1].end
    e = case_events
    relevant = select(e.c.case_pk).where(e.c.on >= lo, e.c.on <= hi).distinct()
    live = select(cases.c.id, cases.c.themes).where(cases.c.merged_into.is_(None), cases.c.id.in_(relevant))
    case_themes = {pk: tuple(t or ()) for pk, t in conn.execute(live)}
    if not case_themes:
        return []
    # The service area of a case: the queue of its first message's newest classification.
    first = (
        select(case_messages.c.case_pk, func.min(case_messages.c.message_pk).label("message_pk"))
        .where(case_messages.c.case_pk.in_(live.with_only_columns(cases.c.id)))
        .group_by(case_messages.c.case_pk)
        .subquery()
    )
    area_query = (
        select(first.c.case_pk, classifications.c.queue)
        .join(classifications, classifications.c.message_pk == first.c.message_pk)
        .where(latest)
    )
    areas = {pk: queue or "" for pk, queue in conn.execute(area_query)}
    events = select(e.c.case_pk, e.c.event, e.c.stage, e.c.on, e.c.extended_to, e.c.outcome).where(
        e.c.case_pk.in_(live.with_only_columns(cases.c.id))
    )
    stages: dict[tuple[int, int], ComplaintStage] = {}
    for pk, event, stage_name, on, extended_to, outcome in conn.execute(events.order_by(e.c.case_pk, e.c.on, e.c.id)):
        # An escalation starts stage 2 whatever stage it was filed under (as triage.cases.history reads it).
        stage = 2 if event == "escalated" else {"stage_1": 1, "stage_2": 2}.get(stage_name)
        if stage is None:
            continue
        key = (pk, stage)
        if event in ("received", "escalated"):
            if key not in stages:
                stages[key] = ComplaintStage(f"case {pk}", stage, on, service_area=areas.get(pk, ""), themes=case_themes[pk])
            elif event == "received":
                stages[key].reopenings += 1  # reopened at this stage: the same complaint, counted once
            continue
        record = stages.get(key)
        if record is None:
            continue  # an event for a stage whose start is not recorded: nothing to measure from
        if event == "acknowledged" and record.acknowledged is None:
            record.acknowledged = on
        elif event == "responded" and record.responded is None:
            record.responded, record.outcome = on, outcome
        elif event == "extension_agreed":
            record.extension_agreed = True
            record.extended_to = extended_to or record.extended_to
    return list(stages.values())


# -- a register -----------------------------------------------------------------------------
THEME_ALIASES = {
    "damp_and_mould": "damp_mould",
    "damp": "damp_mould",
    "mould": "damp_mould",
    "heating": "heating_gas",
    "gas": "heating_gas",
    "asb": "anti_social_behaviour",
    "antisocial_behaviour": "anti_social_behaviour",
    "repairs_and_maintenance": "repairs",
    "responsive_repairs": "repairs",
    "rent": "rent_charges",
    "service_charges": "rent_charges",
    "estate_services": "estate_grounds",
    "grounds_maintenance": "estate_grounds",
    "staff": "staff_conduct",
    "voids": "voids_lettings",
    "lettings": "voids_lettings",
}
OUTCOME_SPELLINGS = {
    "upheld": "upheld",
    "fully upheld": "upheld",
    "justified": "upheld",
    "partly upheld": "partly_upheld",
    "partially upheld": "partly_upheld",
    "part upheld": "partly_upheld",
    "partly_upheld": "partly_upheld",
    "partly justified": "partly_upheld",
    "not upheld": "not_upheld",
    "not_upheld": "not_upheld",
    "unjustified": "not_upheld",
    "not justified": "not_upheld",
}
YES = {"yes", "y", "true", "1", "agreed", "extended"}
NO = {"", "no", "n", "false", "0", "none", "-"}


def theme_key(label: str) -> str:
    """A register's theme spelling as a triage theme where it is one ("Damp and mould" ->
    damp_mould), else the landlord's own label, tidied."""
    key = "_".join(label.lower().replace("&", " and ").replace("-", " ").replace("/", " ").split())
    key = THEME_ALIASES.get(key, key)
    return key if key in THEMES else " ".join(label.split())


def _kind_of(category: str) -> str:
    """The recorded category as a kind: formal stages are complaints; other recorded handling
    (service request, MP enquiry, informal resolution, stage 0, ...) keeps its own name, so a
    report over a register shows the landlord's own categories."""
    normal, formal = normalise_category(category)
    if formal:
        return "complaint"
    if normal in ("compliments", "thanks"):
        return "compliment"
    return normal


INFORMAL_STAGES = ("informal_resolution", "stage_0", "stage_3")


def _stage_and_kind(category: str, stage_cell: object) -> tuple[int | None, str]:
    """(formal stage 1 or 2, or None; the kind the row counts as). The stage column wins over
    the category: "Complaint" at stage "Informal" is an informal resolution (a recorded ghost
    stage), "Complaint" with no stage a stage 1 complaint."""
    kind = _kind_of(category)
    stage = stage_value(stage_cell)  # raises ValueProblem
    if stage is None:
        normal, formal = normalise_category(category)
        if normal in ("stage_1", "stage_2"):
            return int(normal[-1]), kind
        return (1, kind) if formal else (None, kind)
    if stage in (1, 2):
        return stage, kind
    if kind == "complaint" or normalise_category(category)[1] is None:
        text = " ".join(str(stage_cell).lower().split())
        kind = "stage_3" if stage == 3 else "stage_0" if ("0" in text or "zero" in text) else "informal_resolution"
    return None, kind


def from_register(path: Path, register_map: RegisterMap, periods: list[Period]) -> Inputs:
    """Contacts and complaint stages from a register (CSV or XLSX), read as landlords write them
    (:mod:`triage.ingest.register`). Rows that cannot be used are listed in ``bad_rows`` with
    the row, column, value and what is accepted, never dropped silently. A complaint recorded
    twice at the same stage (reopened) is counted once, with its reopenings counted."""
    if not path.exists():
        raise InputError(f"{path}: no such register file. Check the path given to --register.")
    cols = register_map.columns
    header, rows = read_register(path, [cols.reference, cols.received, cols.category])
    for role in ("reference", "received", "category"):
        column = getattr(cols, role)
        if column not in header:
            raise ColumnError(str(path), column, role, [h for h in header if h])
    optional = {role: getattr(cols, role, None) for role in REGISTER_OPTIONAL}
    present = {role: column for role, column in optional.items() if column and column in header}
    inputs = Inputs(periods, [f"register {path}"])
    lo, hi = periods[0].start, periods[-1].end
    seen: dict[tuple[str, int], ComplaintStage] = {}

    def raw(row: dict[str, object], role: str) -> object:
        column = present.get(role) if role in present else getattr(cols, role, None)
        return row.get(column) if column else None

    def cell(row: dict[str, object], role: str) -> str:
        value = raw(row, role)
        return "" if value is None else str(value).strip()

    for number, row in rows:
        reference = cell(row, "reference")
        category = cell(row, "category")
        problems: list[dict[str, object]] = []

        def read(role: str, reader: Callable[[object], Any], row: dict[str, object] = row, problems: list = problems) -> Any:
            try:
                return reader(raw(row, role))
            except ValueProblem as exc:
                column = present.get(role) or getattr(cols, role)
                problems.append({"column": column, "value": "" if exc.value is None else str(exc.value), "reason": str(exc)})
                return None

        received = read("received", date_value)
        if received is None and not problems:
            problems.append({"column": cols.received, "value": "", "reason": "no received date"})
        if not category:
            problems.append({"column": cols.category, "value": "", "reason": "no category"})
        placed = received is not None and bool(category)
        stage, kind = None, _kind_of(category)
        if "stage" in present:
            try:
                stage, kind = _stage_and_kind(category, raw(row, "stage"))
            except ValueProblem as exc:
                problems.append({"column": present["stage"], "value": str(exc.value), "reason": str(exc)})
                placed = False
        elif category:
            stage, kind = _stage_and_kind(category, None)
        acknowledged = read("acknowledged", date_value) if "acknowledged" in present else None
        responded = read("responded", date_value) if "responded" in present else None
        extension = cell(row, "extension_agreed") if "extension_agreed" in present else ""
        extended_to = None
        if extension.lower() not in YES | NO:
            try:
                extended_to = date_value(raw(row, "extension_agreed"))
            except ValueProblem:
                problems.append(
                    {
                        "column": present["extension_agreed"],
                        "value": extension,
                        "reason": f"extension agreed {extension!r} not understood (accepted: a date, or yes/no)",
                    }
                )
        outcome_text = cell(row, "outcome") if "outcome" in present else ""
        outcome = OUTCOME_SPELLINGS.get(" ".join(outcome_text.lower().replace("-", " ").split()))
        if outcome_text and outcome is None:
            problems.append(
                {
                    "column": present["outcome"],
                    "value": outcome_text,
                    "reason": f"outcome {outcome_text!r} not understood (accepted: upheld, partly upheld or not upheld)",
                }
            )
        if problems:
            inputs.bad_rows.append(
                {
                    "row": number,
                    "reference": reference,
                    "column": "; ".join(str(p["column"]) for p in problems),
                    "value": "; ".join(str(p["value"]) for p in problems),
                    "reason": "; ".join(str(p["reason"]) for p in problems),
                }
            )
            if not placed:
                continue  # cannot be placed; the other problems only lose that one field
        assert received is not None
        themes = tuple(dict.fromkeys(theme_key(t) for t in _split(cell(row, "themes"))))
        area = cell(row, "service_area")
        if stage is not None and reference and (reference, stage) in seen:
            seen[(reference, stage)].reopenings += 1  # reopened: the same complaint, counted once
            continue
        if lo <= received <= hi:
            p = _index(periods, received)
            inputs.kind_counts[(p, kind)] += 1  # type: ignore[index]
            inputs.kind_areas[(kind, area)] += 1
            for theme in themes:
                inputs.kind_themes[(kind, theme)] += 1
            if kind in INFORMAL_STAGES:  # a ghost stage by its recorded name (Code 5.2, 5.3)
                inputs.flag_counts[("ghost_stage", "recorded_informal_stage", area)] += 1
                inputs.flagged_contacts["ghost_stage"] += 1
            if kind == "complaint":
                inputs.complaint_contacts[p] += 1
                for theme in themes:
                    inputs.theme_counts[(p, theme)] += 1
                text = cell(row, "text")
                for theme in themes:
                    if len(text) >= 40:
                        inputs.excerpts.setdefault(theme, []).append(text)
        if stage is not None:
            record = ComplaintStage(
                reference,
                stage,
                received,
                acknowledged,
                responded,
                extended_to,
                extension.lower() in YES or extended_to is not None,
                outcome,
                area,
                themes,
            )
            inputs.complaints.append(record)
            if reference:
                seen[(reference, stage)] = record
    for pool in inputs.excerpts.values():
        pool.reverse()  # newest last in the file -> first
    return inputs


REGISTER_OPTIONAL = ("stage", "service_area", "themes", "acknowledged", "responded", "extension_agreed", "outcome", "text")


def _split(value: str) -> list[str]:
    for sep in (";", "|", ","):
        value = value.replace(sep, "\n")
    return [v.strip() for v in value.split("\n") if v.strip()]


def _index(periods: list[Period], day: date) -> int | None:
    for i, p in enumerate(periods):
        if p.start <= day <= p.end:
            return i
    return None
