"""The learning section of the theme-trend report: plain tables, each with its definition.

``load_records(store)`` reads the outcomes and commitments once; ``figures_from(records, start,
end)`` computes ``LearningFigures`` from them: outcomes identified and implemented by risk rating,
by theme (beside the complaints each theme produced, so themes with complaints but no learning
show) and by service area; open outcomes past their target date; commitments made, kept on time,
late and open; and the headline figures beside the previous period of the same length. The tables
are the report's own ``Table`` s, so ``triage report`` renders them to HTML, XLSX and JSON like
its other sections. ``learning_figures(store, start, end)`` does both steps, counting complaints
from the cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from triage.labels import RISKS, THEMES
from triage.learning.commitments import Commitment, list_commitments, working_days_late
from triage.learning.records import Outcome, connect, list_outcomes
from triage.route.deadlines import working_days_between
from triage.store.schema import case_events, cases
from triage.tables import Table, pct

NO_THEME = "(no theme)"
NO_AREA = "(no service area)"
CASES_COUNTED = (
    "complaint cases in the period (a stage 1 or stage 2 complaint received, or an escalation, in the period; "
    "counted under each of the case's themes)"
)


@dataclass
class LearningFigures:
    start: date
    end: date
    previous_start: date
    previous_end: date
    by_risk: Table
    by_theme: Table
    by_service_area: Table
    past_target: Table
    commitments: Table
    comparison: Table

    def tables(self) -> list[Table]:
        return [self.by_risk, self.by_theme, self.by_service_area, self.past_target, self.commitments, self.comparison]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "previous_period": {"start": self.previous_start.isoformat(), "end": self.previous_end.isoformat()},
            "tables": [
                {"id": t.id, "title": t.title, "definition": t.definition, "columns": t.columns, "rows": t.rows}
                for t in self.tables()
            ],
        }


# -- counting --------------------------------------------------------------------------------
def complaints_by_theme(conn: Connection, start: date, end: date) -> Counter[str]:
    """Complaint cases by theme: cases (not merged into another) with a complaint received at
    stage 1 or stage 2, or escalated, in the period; counted once per theme of the case."""
    formal = or_(
        and_(case_events.c.event == "received", case_events.c.stage.in_(("stage_1", "stage_2"))),
        case_events.c.event == "escalated",
    )
    received = select(case_events.c.case_pk).where(formal, case_events.c.on >= start, case_events.c.on <= end).distinct()
    counts: Counter[str] = Counter()
    for themes in conn.scalars(select(cases.c.themes).where(cases.c.id.in_(received), cases.c.merged_into.is_(None))):
        counts.update(set(themes or []) or {NO_THEME})
    return counts


@dataclass
class _Period:
    start: date
    end: date
    identified: list[Outcome]
    all_outcomes: list[Outcome]
    commitments: list[Commitment]
    nation: str
    as_at: date | None = None  # "to date": the day the report is run for (default today)

    def implemented(self, outcomes: list[Outcome], on: date | None = None) -> int:
        return sum(o.status_on(on or self.end) == "implemented" for o in outcomes)

    def past_target(self) -> list[Outcome]:
        return [o for o in self.all_outcomes if o.identified <= self.end and o.past_target(self.end)]

    def commitment_counts(self) -> dict[str, int]:
        counts = Counter[str]()
        for c in self.commitments:
            counts["made"] += 1
            cancelled_at = c.closed_at.date() if c.status == "cancelled" and c.closed_at else None
            if c.status == "done" and c.done_on and c.done_on <= self.end:
                late = working_days_late(c.due, c.done_on, self.nation)
                counts["kept_late" if late else "kept_on_time"] += 1
                counts["closed_without_evidence"] += c.closed_without_evidence
            elif cancelled_at and cancelled_at <= self.end:
                counts["cancelled"] += 1
            elif working_days_late(c.due, self.end, self.nation):
                counts["open_overdue"] += 1
            else:
                counts["open_not_yet_due"] += 1
        return counts


def _period(
    outcomes: list[Outcome], commitments: list[Commitment], start: date, end: date, nation: str, as_at: date | None = None
) -> _Period:
    return _Period(
        start,
        end,
        [o for o in outcomes if start <= o.identified <= end],
        outcomes,
        [c for c in commitments if c.made_on and start <= c.made_on <= end],
        nation,
        as_at,
    )


# -- the tables ------------------------------------------------------------------------------
def _by_risk(p: _Period) -> Table:
    as_at = p.as_at or date.today()
    table = Table(
        "learning_by_risk",
        "Learning outcomes by risk rating",
        "Outcomes identified in the period (by the date identified), by risk rating: red, amber or green is the risk "
        "of a repeat complaint or an Ombudsman finding if the action is not taken. Implemented by period end: of those, "
        "the ones implemented by the end of the period; implemented to date: the ones implemented by "
        f"{as_at:%-d %B %Y} (--as-at; an outcome marked implemented with no date counts as implemented in both). "
        "Percentages are of outcomes identified, rounded half up to two decimal places; blank when none were identified. "
        "Open and dropped: at the end of the period.",
        [
            "risk",
            "identified",
            "implemented by period end",
            "implemented by period end %",
            f"implemented to date ({as_at.isoformat()})",
            "implemented to date %",
            "open",
            "dropped",
        ],
        [],
    )
    for risk in (*RISKS, "total"):
        group = p.identified if risk == "total" else [o for o in p.identified if o.risk == risk]
        done = p.implemented(group)
        to_date = p.implemented(group, as_at)
        dropped = sum(o.status_on(p.end) == "dropped" for o in group)
        n = len(group)
        table.rows.append([risk, n, done, pct(done, n), to_date, pct(to_date, n), n - done - dropped, dropped])
    return table


def _by_theme(p: _Period, complaints: Counter[str], counted: str) -> Table:
    table = Table(
        "learning_by_theme",
        "Learning outcomes by theme",
        f"For each theme: complaints, meaning {counted}; learning outcomes identified in the period with that theme; "
        "and how many of those were implemented by the end of the period. 'complaints, no learning' marks a theme "
        "that produced complaints but no learning outcome.",
        ["theme", "complaints", "outcomes identified", "implemented", "implemented %", "note"],
        [],
    )
    counts = Counter(o.theme or NO_THEME for o in p.identified)
    for theme in (*THEMES, NO_THEME):
        group = [o for o in p.identified if (o.theme or NO_THEME) == theme]
        if theme == NO_THEME and not group and not complaints.get(theme):
            continue
        done = p.implemented(group)
        note = "complaints, no learning" if complaints.get(theme, 0) and not counts[theme] else ""
        table.rows.append([theme, complaints.get(theme, 0), counts[theme], done, pct(done, counts[theme]), note])
    return table


def _by_area(p: _Period) -> Table:
    table = Table(
        "learning_by_service_area",
        "Learning outcomes by service area",
        "Outcomes identified in the period by the service area that owns the action; implemented by the end of "
        "the period; and, of all outcomes still open at the end of the period (whenever identified), those past "
        "their target date.",
        ["service area", "outcomes identified", "implemented", "implemented %", "open past target date"],
        [],
    )
    past = Counter(o.service_area or NO_AREA for o in p.past_target())
    areas = sorted({o.service_area or NO_AREA for o in p.identified} | set(past), key=lambda a: (a == NO_AREA, a))
    for area in areas:
        group = [o for o in p.identified if (o.service_area or NO_AREA) == area]
        done = p.implemented(group)
        table.rows.append([area, len(group), done, pct(done, len(group)), past[area]])
    return table


def _past_target(p: _Period) -> Table:
    table = Table(
        "learning_past_target",
        "Open learning outcomes past their target date",
        "Every outcome still open at the end of the period whose target date had passed, whenever it was "
        "identified; red first, then the longest overdue. Working days past target count Monday to Friday less "
        "bank holidays.",
        ["reference", "risk", "service area", "description", "target date", "working days past target", "cases"],
        [],
    )
    order = {r: n for n, r in enumerate(RISKS)}
    for o in sorted(p.past_target(), key=lambda o: (order.get(o.risk, 9), o.target_date)):
        assert o.target_date is not None
        table.rows.append(
            [
                o.reference,
                o.risk,
                o.service_area,
                o.description,
                o.target_date.isoformat(),
                working_days_between(o.target_date, p.end, p.nation),
                "; ".join(c.ref for c in o.cases),
            ]
        )
    return table


COMMITMENT_ROWS = (
    ("made", "made"),
    ("kept on time", "kept_on_time"),
    ("kept late", "kept_late"),
    ("open and overdue", "open_overdue"),
    ("open, not yet due", "open_not_yet_due"),
    ("cancelled", "cancelled"),
    ("closed without evidence of completion", "closed_without_evidence"),
)


def _commitments(p: _Period) -> Table:
    table = Table(
        "commitments",
        "Commitments made in complaint responses",
        "Commitments (a repair, an inspection, a payment, a call back, ...) made in a complaint response sent in the "
        "period, as they stood at the end of the period. Kept on time: done no later than the due date (a due date on "
        "a weekend or bank holiday moves to the next working day). Kept late: done after it. Open and overdue: not "
        "done and a working day past the due date. Closed without evidence: marked done with no evidence of "
        "completion (included in kept). Percentages are of commitments made.",
        ["commitments", "number", "% of made"],
        [],
    )
    counts = p.commitment_counts()
    for label, key in COMMITMENT_ROWS:
        table.rows.append([label, counts[key], pct(counts[key], counts["made"])])
    return table


def _headline(p: _Period) -> dict[str, float | int | None]:
    red = [o for o in p.identified if o.risk == "red"]
    c = p.commitment_counts()
    done = p.implemented(p.identified)
    return {
        "learning outcomes identified": len(p.identified),
        "learning outcomes implemented": done,
        "implemented %": pct(done, len(p.identified)),
        "red outcomes identified": len(red),
        "red outcomes implemented %": pct(p.implemented(red), len(red)),
        "open outcomes past target date (at period end)": len(p.past_target()),
        "commitments made": c["made"],
        "commitments kept on time %": pct(c["kept_on_time"], c["made"]),
        "commitments open and overdue (at period end)": c["open_overdue"],
        "commitments closed without evidence": c["closed_without_evidence"],
    }


def _comparison(current: _Period, previous: _Period) -> Table:
    table = Table(
        "learning_comparison",
        "Learning and commitments: this period and the previous one",
        f"The headline figures for this period ({current.start} to {current.end}) beside the previous period of the "
        f"same length ({previous.start} to {previous.end}), counted the same way, each as it stood at the end of its "
        "own period. Change is this period minus the previous one (percentage points for percentages).",
        ["measure", "this period", "previous period", "change"],
        [],
    )
    now, before = _headline(current), _headline(previous)
    for measure, value in now.items():
        old = before[measure]
        change = None if value is None or old is None else round(value - old, 2)
        table.rows.append([measure, value, old, change])
    return table


@dataclass
class LearningRecords:
    """Everything the learning section reads from the store, read once."""

    outcomes: list[Outcome]
    commitments: list[Commitment]


def load_records(conn_or_store: Any) -> LearningRecords:
    with connect(conn_or_store) as conn:
        return LearningRecords(list_outcomes(conn), list_commitments(conn))


def figures_from(
    records: LearningRecords,
    start: date,
    end: date,
    *,
    complaints: Counter[str] | dict[str, int],
    complaints_counted: str,
    nation: str = "england",
    as_at: date | None = None,
) -> LearningFigures:
    """The learning section for the period ``start`` to ``end`` (inclusive) and the previous
    period of the same length. ``complaints`` are complaints by theme in the period, and
    ``complaints_counted`` says what they count (for the theme table's definition). ``as_at``
    (default today) is the day outcomes implemented "to date" are counted to, beside those
    implemented by the period end."""
    days = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=days - 1)
    current = _period(records.outcomes, records.commitments, start, end, nation, as_at)
    previous = _period(records.outcomes, records.commitments, previous_start, previous_end, nation)
    return LearningFigures(
        start,
        end,
        previous_start,
        previous_end,
        by_risk=_by_risk(current),
        by_theme=_by_theme(current, Counter(complaints), complaints_counted),
        by_service_area=_by_area(current),
        past_target=_past_target(current),
        commitments=_commitments(current),
        comparison=_comparison(current, previous),
    )


def learning_figures(
    conn_or_store: Any, start: date, end: date, *, nation: str = "england", as_at: date | None = None
) -> LearningFigures:
    """The learning section straight from the store, with complaints by theme counted from the
    cases (``complaints_by_theme``)."""
    with connect(conn_or_store) as conn:
        records = load_records(conn)
        complaints = complaints_by_theme(conn, start, end)
    return figures_from(records, start, end, complaints=complaints, complaints_counted=CASES_COUNTED, nation=nation, as_at=as_at)
