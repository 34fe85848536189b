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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Text, and_, case, cast, exists, func, select, true
from sqlalchemy.sql import ColumnElement

from triage.errors import InputError
from triage.labels import THEMES
from triage.message import UK
from triage.store.db import Store
from triage.store.schema import case_events, case_messages, cases, classifications, messages

if TYPE_CHECKING:
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


@dataclass
class Inputs:
    periods: list[Period]
    sources: list[str] = field(default_factory=list)
    kind_counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (period, kind)
    theme_counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (period, theme) among complaint contacts
    complaint_contacts: Counter[int] = field(default_factory=Counter)  # period -> complaint contacts
    flag_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (type, rule, service area)
    flagged_contacts: Counter[str] = field(default_factory=Counter)  # type -> contacts with such a flag
    flags_known: bool = False  # False for a register: it records no flags
    complaints: list[ComplaintStage] = field(default_factory=list)
    excerpts: dict[str, list[str]] = field(default_factory=dict)  # theme -> raw texts, newest first
    bad_rows: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __add__(self, other: Inputs) -> Inputs:
        merged = Inputs(self.periods, self.sources + other.sources)
        for name in ("kind_counts", "theme_counts", "complaint_contacts", "flag_counts", "flagged_contacts"):
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        merged.flags_known = self.flags_known or other.flags_known
        merged.complaints = self.complaints + other.complaints
        merged.excerpts = {t: self.excerpts.get(t, []) + other.excerpts.get(t, []) for t in {*self.excerpts, *other.excerpts}}
        merged.bad_rows = self.bad_rows + other.bad_rows
        merged.notes = self.notes + other.notes
        return merged


# -- the store ------------------------------------------------------------------------------
def _period_of(column: ColumnElement, periods: list[Period]) -> ColumnElement:
    """A CASE giving the index of the period a timestamp falls in (UK midnights, as UTC)."""
    return case(*[(column < p.utc_bounds()[1], i) for i, p in enumerate(periods)], else_=None)


def _latest_classification() -> ColumnElement[bool]:
    """Only the newest classification of each message (a message re-classified by a newer model
    counts once)."""
    newer = classifications.alias("newer")
    return ~exists().where(and_(newer.c.message_pk == classifications.c.message_pk, newer.c.id > classifications.c.id))


def from_store(store: Store, periods: list[Period]) -> Inputs:
    """Counts of the store's contacts received in the periods, and its complaint stages."""
    inputs = Inputs(periods, [f"store {store.url}"], flags_known=True)
    lo, hi = periods[0].utc_bounds()[0], periods[-1].utc_bounds()[1]
    c, m = classifications, messages
    in_range = and_(m.c.received_at >= lo, m.c.received_at < hi, _latest_classification())
    joined = m.join(c, c.c.message_pk == m.c.id)
    period = _period_of(m.c.received_at, periods).label("period")
    with store.engine.connect() as conn:
        for p, kind, n in conn.execute(
            select(period, c.c.kind, func.count()).select_from(joined).where(in_range).group_by(period, c.c.kind)
        ):
            inputs.kind_counts[(p, kind)] += n
        is_complaint = c.c.kind == "complaint"
        themes_text = cast(c.c.themes, Text).label("themes")
        query = (
            select(period, themes_text, func.count())
            .select_from(joined)
            .where(in_range, is_complaint)
            .group_by(period, themes_text)
        )
        for p, themes, n in conn.execute(query):
            inputs.complaint_contacts[p] += n
            for theme in json.loads(themes) if themes else []:
                inputs.theme_counts[(p, theme)] += n
        _store_flags(conn, store.is_sqlite, joined, in_range, inputs)
        _store_excerpts(conn, joined, in_range, inputs)
        inputs.complaints = _store_complaints(conn, periods)
        undated = conn.execute(select(func.count()).select_from(m).where(m.c.received_at.is_(None))).scalar_one()
    if undated:
        inputs.notes.append(f"{undated} stored messages have no received date and are not counted.")
    return inputs


def _store_flags(conn, is_sqlite: bool, joined, in_range, inputs: Inputs) -> None:
    c = classifications
    if is_sqlite:
        j = func.json_each(c.c.flags).table_valued("value").alias("j")
        ftype, frule = func.json_extract(j.c.value, "$.type"), func.json_extract(j.c.value, "$.rule")
    else:
        j = func.json_array_elements(c.c.flags).table_valued("value").alias("j")
        ftype, frule = j.c.value.op("->>")("type"), j.c.value.op("->>")("rule")
    flagged = joined.join(j, true())
    ftype, frule = ftype.label("type"), frule.label("rule")
    query = select(ftype, frule, c.c.queue, func.count()).select_from(flagged).where(in_range).group_by(ftype, frule, c.c.queue)
    for kind, rule, queue, n in conn.execute(query):
        inputs.flag_counts[(kind, rule, queue or "")] += n
    query = select(ftype, func.count(func.distinct(c.c.id))).select_from(flagged).where(in_range).group_by(ftype)
    for kind, n in conn.execute(query):
        inputs.flagged_contacts[kind] += n


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


def _store_complaints(conn, periods: list[Period]) -> list[ComplaintStage]:
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
        .where(_latest_classification())
    )
    areas = {pk: queue or "" for pk, queue in conn.execute(area_query)}
    events = select(e.c.case_pk, e.c.event, e.c.stage, e.c.on, e.c.extended_to, e.c.outcome).where(
        e.c.case_pk.in_(live.with_only_columns(cases.c.id))
    )
    stages: dict[tuple[int, int], ComplaintStage] = {}
    for pk, event, stage_name, on, extended_to, outcome in conn.execute(events.order_by(e.c.case_pk, e.c.on, e.c.id)):
        stage = {"stage_1": 1, "stage_2": 2}.get(stage_name)
        if stage is None:
            continue
        key = (pk, stage)
        if event in ("received", "escalated"):
            if key not in stages:
                stages[key] = ComplaintStage(f"case {pk}", stage, on, service_area=areas.get(pk, ""), themes=case_themes[pk])
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
    from triage.route.flags import normalise_category

    normal, formal = normalise_category(category)
    if formal:
        return "complaint"
    if normal in ("compliments", "thanks"):
        return "compliment"
    return normal


INFORMAL_STAGES = ("informal_resolution", "stage_0", "stage_3")


def _stage_of(category: str, stage: str) -> int | None:
    from triage.route.flags import normalise_category

    for value in (stage, category):
        normal, _ = normalise_category(value)
        if normal in ("stage_1", "stage_2"):
            return int(normal[-1])
    if normalise_category(category)[1] and not stage.strip():
        return 1  # "Complaint" with no stage: a stage 1 complaint
    return None


def from_register(path: Path, register_map: RegisterMap, periods: list[Period]) -> Inputs:
    """Contacts and complaint stages from a register (CSV or XLSX). Rows that cannot be used are
    listed in ``bad_rows`` with the reason, never dropped silently."""
    from triage.errors import ColumnError
    from triage.ingest.survey import parse_date, read_rows
    from triage.route.flags import normalise_category

    if not path.exists():
        raise InputError(f"{path}: no such register file. Check the path given to --register.")
    cols = register_map.columns
    header, rows = read_rows(path)
    for role in ("reference", "received", "category"):
        column = getattr(cols, role)
        if column not in header:
            raise ColumnError(str(path), column, role, [h for h in header if h])
    optional = {role: getattr(cols, role, None) for role in REGISTER_OPTIONAL}
    present = {role: column for role, column in optional.items() if column and column in header}
    inputs = Inputs(periods, [f"register {path}"])
    lo, hi = periods[0].start, periods[-1].end

    def cell(row: dict[str, object], role: str) -> str:
        column = present.get(role)
        value = row.get(column) if column else None
        return "" if value is None else str(value).strip()

    def day(row: dict[str, object], role: str, problems: list[str]) -> date | None:
        column = present.get(role)
        raw = row.get(column) if column else None
        if raw in (None, ""):
            return None
        parsed = parse_date(raw)
        if parsed is None:
            problems.append(f"{role} date {raw!s} not understood")
            return None
        return parsed.date()

    for number, row in rows:
        reference = str(row.get(cols.reference) or "").strip()
        category = str(row.get(cols.category) or "").strip()
        received_dt = parse_date(row.get(cols.received))
        problems: list[str] = []
        if received_dt is None:
            problems.append("no received date or a date not understood")
        if not category:
            problems.append("no category")
        stage_text = cell(row, "stage")
        stage = _stage_of(category, stage_text)
        if stage_text and stage is None and normalise_category(stage_text)[0] not in ("none", "unknown", "n_a", "na"):
            problems.append(f"stage {stage_text!r} not understood (use Stage 1 or Stage 2)")
        acknowledged = day(row, "acknowledged", problems)
        responded = day(row, "responded", problems)
        extension = cell(row, "extension_agreed")
        extended_to = None
        if extension.lower() not in YES | NO:
            parsed = parse_date(extension)
            if parsed is None:
                problems.append(f"extension agreed {extension!r} not understood (a date, or yes/no)")
            else:
                extended_to = parsed.date()
        outcome_text = cell(row, "outcome")
        outcome = OUTCOME_SPELLINGS.get(" ".join(outcome_text.lower().replace("-", " ").split()))
        if outcome_text and outcome is None:
            problems.append(f"outcome {outcome_text!r} not understood (upheld, partly upheld or not upheld)")
        if problems:
            inputs.bad_rows.append({"row": number, "reference": reference, "reason": "; ".join(problems)})
            if received_dt is None or not category or (stage_text and stage is None):
                continue  # cannot be placed; the other problems only lose that one field
        received = received_dt.date()  # type: ignore[union-attr]
        themes = tuple(dict.fromkeys(theme_key(t) for t in _split(cell(row, "themes"))))
        kind = _kind_of(category)
        area = cell(row, "service_area")
        if lo <= received <= hi:
            p = _index(periods, received)
            inputs.kind_counts[(p, kind)] += 1  # type: ignore[index]
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
            inputs.complaints.append(
                ComplaintStage(
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
            )
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
