"""The one computation behind report.html, report.xlsx and report.json.

A :class:`Report` is a list of :class:`Section` s, each a list of :class:`Table` s with a title,
a definition and plain rows (strings, integers, floats, None). The three renderers only format
what is here, so their numbers always agree.

Each section is one function in ``SECTIONS`` taking the :class:`Context`; to add a section
(issue 8: learning outcomes, ``learning``), write a function that returns a Section and append it.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from triage.labels import KINDS, THEMES
from triage.report.inputs import OUTCOMES, ComplaintStage, Inputs, Period
from triage.report.trends import ALPHA, MIN_HISTORY_COUNT, MIN_HISTORY_PERIODS, MIN_LATEST_COUNT, TEST_NAME, theme_trends
from triage.route.deadlines import RULES, stage_deadlines
from triage.route.flags import RULES as FLAG_RULES
from triage.tables import Cell, Chart, Table, pct, per_1000
from triage.text.redact import redact

TOP_THEMES = 5  # themes given example excerpts
EXCERPTS_PER_THEME = 3
EXCERPT_CHARS = 240

LABELS = {
    "damp_mould": "Damp and mould",
    "heating_gas": "Heating and gas",
    "anti_social_behaviour": "Anti-social behaviour",
    "staff_conduct": "Staff conduct",
    "rent_charges": "Rent and charges",
    "voids_lettings": "Voids and lettings",
    "estate_grounds": "Estate and grounds",
    "tenancy_management": "Tenancy management",
    "complaint_handling": "Complaint handling",
    "mp_enquiry": "MP enquiry",
    "service_request": "Service request",
    "informal_resolution": "Informal resolution",
    "stage_0": "Stage 0",
    "stage_3": "Stage 3",
    "partly_upheld": "Partly upheld",
    "not_upheld": "Not upheld",
}

CH01_DEFINITION = (
    "CH01 (Regulator of Social Housing tenant satisfaction measure): complaints received in the report's range per 1,000 "
    "homes, stage 1 and stage 2 separately. Stage 1: complaints received at stage 1 (including those later escalated). "
    "Stage 2: escalations to stage 2 requested in the range. Homes: the stock size given (--homes)."
)
CH02_DEFINITION = (
    "CH02 (Regulator of Social Housing tenant satisfaction measure): of the complaints responded to in the report's range, "
    "the share responded to within the Complaint Handling Code's timescales. Stage 1: within {s1} working days of the "
    "acknowledgement (Code {c1}); stage 2: within {s2} working days of the acknowledgement (Code {c2}). Where no "
    "acknowledgement is recorded the clock starts at the acknowledge-by date (5 working days after receipt or the escalation "
    "request), so a missing acknowledgement never buys time. 'With agreed extensions' also counts as in time a response by "
    "the agreed extended date (or, when an extension is recorded as agreed without a date, the Code's longest extension, "
    "+{e1} / +{e2} working days); this is the figure reported as CH02. Working days exclude weekends and the bank holidays "
    "of the landlord's nation. Two bases are shown, each labelled: the responded basis (the TSM's: complaints responded "
    "to in the range) and the received basis many councils publish (complaints received in the range, where one not yet "
    "responded to counts as not within); --basis chooses the headline."
).format(
    s1=RULES["stage1_respond"].working_days,
    s2=RULES["stage2_respond"].working_days,
    c1=RULES["stage1_respond"].code,
    c2=RULES["stage2_respond"].code,
    e1=RULES["stage1_respond"].extension_working_days,
    e2=RULES["stage2_respond"].extension_working_days,
)


OUTCOMES_DEFINITION = (
    "Responded basis: complaints responded to in the range by outcome, as a share of those whose outcome is recorded. "
    "Received basis: complaints received in the range by outcome, as a share of all of them (those not yet responded to "
    "have no outcome)."
)


def label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    if key in THEMES or key in KINDS or key in OUTCOMES:
        return key.replace("_", " ").capitalize()
    return key


@dataclass
class Section:
    id: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Figure:
    id: str
    label: str
    value: Cell
    definition: str


@dataclass
class Report:
    title: str
    start: date
    end: date
    by: str
    sources: list[str]
    generated_at: datetime
    figures: list[Figure]
    sections: list[Section]
    definitions: dict[str, str]

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables() if t.id == table_id)


BASES = ("responded", "received")
BASIS_LABELS = {
    "responded": "responded basis (TSM CH02: complaints responded to in the range)",
    "received": "received basis (complaints received in the range)",
}


@dataclass
class Context:
    inputs: Inputs
    by: str
    homes: int | None
    nation: str
    basis: str = "responded"  # the headline CH02 and outcomes basis; the other is shown beside it
    as_at: date | None = None  # learning outcomes implemented "to date": as they stood on this day
    ch02_cache: dict[tuple[int, str], tuple[int, int, int, float | None, float | None, int]] = field(default_factory=dict)

    @property
    def periods(self) -> list[Period]:
        return self.inputs.periods

    @functools.cached_property
    def stages(self) -> dict[int, list[ComplaintStage]]:
        lo, hi = self.periods[0].start, self.periods[-1].end
        return {s: [c for c in self.inputs.complaints if c.stage == s and lo <= c.received <= hi] for s in (1, 2)}

    @functools.cached_property
    def responded(self) -> dict[int, list[ComplaintStage]]:
        lo, hi = self.periods[0].start, self.periods[-1].end
        return {
            s: [c for c in self.inputs.complaints if c.stage == s and c.responded and lo <= c.responded <= hi] for s in (1, 2)
        }

    def counted(self, stage: int, basis: str) -> list[ComplaintStage]:
        """The complaints a CH02 or outcome figure counts on ``basis``: those responded to in the
        range, or those received in the range (responded to or not)."""
        return self.responded[stage] if basis == "responded" else self.stages[stage]

    @functools.cached_property
    def figures(self) -> list[Figure]:
        return headline_figures(self)

    def period_of(self, day: date) -> int | None:
        for i, p in enumerate(self.periods):
            if p.start <= day <= p.end:
                return i
        return None


@functools.cache
def _deadlines(stage: int, received: date, acknowledged: date | None, nation: str) -> tuple[date, date]:
    d = stage_deadlines(stage, received, acknowledged, nation)
    return d.respond_by, d.extended_respond_by


def timeliness(c: ComplaintStage, nation: str) -> tuple[bool, bool]:
    """(in time without extension, in time with the agreed extension) for a responded stage."""
    assert c.responded is not None
    respond_by, longest = _deadlines(c.stage, c.received, c.acknowledged, nation)
    strict = c.responded <= respond_by
    limit = c.extended_to or (longest if c.extension_agreed else None)
    return strict, strict or (limit is not None and c.responded <= limit)


# -- sections -------------------------------------------------------------------------------
def headline(ctx: Context) -> Section:
    figures = ctx.figures
    table = Table(
        "headline",
        "Headline figures",
        "The figures a governing body sees first; each is defined in its own row and in the sections below.",
        ["figure", "value", "definition"],
        [[f.label, f.value, f.definition] for f in figures],
    )
    return Section("headline", "Headline figures", "", [table])


def headline_figures(ctx: Context) -> list[Figure]:
    contacts = sum(ctx.inputs.kind_counts.values())
    s1, s2 = len(ctx.stages[1]), len(ctx.stages[2])
    other = next(b for b in BASES if b != ctx.basis)
    ch02 = {s: _ch02(ctx, s, ctx.basis) for s in (1, 2)}
    ch02_other = {s: _ch02(ctx, s, other) for s in (1, 2)}
    upheld = {s: _upheld(ctx, s, ctx.basis) for s in (1, 2)}
    rate = {1: per_1000(s1, ctx.homes), 2: per_1000(s2, ctx.homes)}
    reopened = [c for s in (1, 2) for c in ctx.stages[s] if c.reopenings]
    return [
        Figure("contacts", "Contacts received", contacts, "Messages, survey answers or register rows received in the range."),
        Figure(
            "complaint_contacts",
            "Complaint contacts",
            sum(ctx.inputs.complaint_contacts.values()),
            "Contacts that are complaints (classified as such, or recorded at a complaint stage in a register).",
        ),
        Figure("stage1", "Stage 1 complaints received", s1, "Complaints received at stage 1 in the range."),
        Figure("stage2", "Stage 2 escalations", s2, "Escalations to stage 2 requested in the range."),
        Figure(
            "escalation_rate",
            "Escalated to stage 2 (% of stage 1)",
            pct(s2, s1),
            "Stage 2 escalations as a share of stage 1 complaints received.",
        ),
        Figure("ch01_stage1", "CH01 stage 1 complaints per 1,000 homes", rate[1], CH01_DEFINITION),
        Figure("ch01_stage2", "CH01 stage 2 complaints per 1,000 homes", rate[2], CH01_DEFINITION),
        Figure("ch02_stage1", f"CH02 stage 1 within Code timescales (%), {ctx.basis} basis", ch02[1][3], CH02_DEFINITION),
        Figure("ch02_stage2", f"CH02 stage 2 within Code timescales (%), {ctx.basis} basis", ch02[2][3], CH02_DEFINITION),
        Figure(
            f"ch02_stage1_{other}", f"CH02 stage 1 within Code timescales (%), {other} basis", ch02_other[1][3], CH02_DEFINITION
        ),
        Figure(
            f"ch02_stage2_{other}", f"CH02 stage 2 within Code timescales (%), {other} basis", ch02_other[2][3], CH02_DEFINITION
        ),
        Figure("upheld_stage1", f"Stage 1 upheld (%), {ctx.basis} basis", upheld[1], OUTCOMES_DEFINITION),
        Figure("upheld_stage2", f"Stage 2 upheld (%), {ctx.basis} basis", upheld[2], OUTCOMES_DEFINITION),
        Figure(
            "reopened",
            "Complaints reopened",
            len(reopened),
            "Complaints received in the range recorded again at the same stage after the first time (reopened): each is "
            "counted once in every other figure. The reopenings are counted in the complaints section.",
        ),
    ]


def _upheld(ctx: Context, stage: int, basis: str) -> float | None:
    """Upheld (fully) as a share of the complaints counted on ``basis``."""
    counted = ctx.counted(stage, basis)
    if basis == "responded":
        known = [c for c in counted if c.outcome in OUTCOMES]
        return pct(sum(c.outcome == "upheld" for c in known), len(known))
    return pct(sum(c.outcome == "upheld" for c in counted), len(counted))


def _ch02(ctx: Context, stage: int, basis: str = "responded") -> tuple[int, int, int, float | None, float | None, int]:
    """(counted, within, within with extensions, % with extensions, % without, extensions agreed).
    On the received basis a complaint not yet responded to counts, and is not within. Computed
    once per stage and basis (the headline and the timescales table read the same figures)."""
    key = (stage, basis)
    if key not in ctx.ch02_cache:
        ctx.ch02_cache[key] = _ch02_count(ctx, stage, basis)
    return ctx.ch02_cache[key]


def _ch02_count(ctx: Context, stage: int, basis: str) -> tuple[int, int, int, float | None, float | None, int]:
    counted = ctx.counted(stage, basis)
    results = [timeliness(c, ctx.nation) if c.responded else (False, False) for c in counted]
    strict = sum(s for s, _ in results)
    extended = sum(e for _, e in results)
    n = len(counted)
    return n, strict, extended, pct(extended, n), pct(strict, n), sum(c.extension_agreed for c in counted)


def volumes(ctx: Context) -> Section:
    seen = {k for _, k in ctx.inputs.kind_counts}
    kinds = [k for k in KINDS if k in seen or k == "complaint"] + sorted(seen - set(KINDS))
    rows: list[list[Cell]] = []
    for i, p in enumerate(ctx.periods):
        counts = [ctx.inputs.kind_counts.get((i, k), 0) for k in kinds]
        rows.append([p.label, *counts, sum(counts)])
    totals = [sum(r[j] for r in rows) for j in range(1, len(kinds) + 2)]  # type: ignore[misc]
    rows.append(["Total", *totals])
    columns = ["period", *[label(k) for k in kinds], "total"]
    chart = Chart("stacked", 0, list(range(1, len(kinds) + 1)), "Contacts by kind")
    table = Table(
        "volumes_by_kind",
        "Contacts by kind over time",
        "Contacts received in each period by kind: as classified by triage (store) or as recorded (register). "
        "The chart leaves out the total row.",
        columns,
        rows,
        chart,
    )
    breakdowns = [
        _share_table(ctx, "mp_enquiry", "service area", "mp_enquiries_by_area", "MP enquiries by service area"),
        _share_table(ctx, "mp_enquiry", "theme", "mp_enquiries_by_theme", "MP enquiries by theme"),
        _share_table(ctx, "service_request", "service area", "service_requests_by_area", "Service requests by service area"),
    ]
    return Section("volumes", "Volumes", "What residents sent, by kind.", [table, *breakdowns])


def _share_table(ctx: Context, kind: str, by: str, table_id: str, title: str) -> Table:
    """Contacts of one kind by service area or theme, with each one's share of the kind's total."""
    total = sum(n for (p, k), n in ctx.inputs.kind_counts.items() if k == kind and p is not None)
    source = ctx.inputs.kind_areas if by == "service area" else ctx.inputs.kind_themes
    counts = Counter({key: n for (k, key), n in source.items() if k == kind})
    rows: list[list[Cell]] = []
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        shown = (key or "(not recorded)") if by == "service area" else label(key)
        rows.append([shown, n, pct(n, total)])
    if by == "theme":
        no_theme = total - sum(counts.values()) if total >= sum(counts.values()) else None
        if no_theme:
            rows.append(["(no theme recorded)", no_theme, pct(no_theme, total)])
    rows.append(["Total", total, pct(total, total)])
    definition = (
        f"{label(kind)} contacts received in the range by {by}, with each one's share of all {label(kind).lower()} contacts "
        "(percentages to two decimals, rounded half up). Store: "
        + ("the queue triage routed each to; " if by == "service area" else "the themes triage gave each; ")
        + f"register: the {by} column."
        + (" A contact can have several themes, so the shares can add up to more than 100%." if by == "theme" else "")
    )
    return Table(table_id, title, definition, [by, "contacts", "% of total"], rows)


def complaints(ctx: Context) -> Section:
    per_period = {s: Counter(ctx.period_of(c.received) for c in ctx.stages[s]) for s in (1, 2)}
    by_period: list[list[Cell]] = [[p.label, per_period[1][i], per_period[2][i]] for i, p in enumerate(ctx.periods)]
    s1, s2 = len(ctx.stages[1]), len(ctx.stages[2])
    by_period.append(["Total", s1, s2])
    stage_table = Table(
        "complaints_by_stage",
        "Complaints by stage over time",
        "Stage 1: complaints received at stage 1 in the period. Stage 2: escalations requested in the period.",
        ["period", "stage 1", "stage 2"],
        by_period,
        Chart("bars", 0, [1, 2], "Complaints by stage"),
    )
    areas = Counter(c.service_area or "(not recorded)" for c in ctx.stages[1])
    areas2 = Counter(c.service_area or "(not recorded)" for c in ctx.stages[2])
    names = sorted({*areas, *areas2}, key=lambda a: (-areas[a], -areas2[a], a))
    area_rows: list[list[Cell]] = [[a, areas[a], pct(areas[a], s1), areas2[a], pct(areas2[a], s2)] for a in names]
    area_rows.append(["Total", s1, pct(s1, s1), s2, pct(s2, s2)])
    area_table = Table(
        "complaints_by_area",
        "Complaints by service area",
        "Complaints received in the range by the service area that handled them, with the share of all complaints at that "
        "stage. Store: the queue of the case's first message; register: the service area column.",
        ["service area", "stage 1", "stage 1 %", "stage 2", "stage 2 %"],
        area_rows,
    )
    themes = Counter(t for c in ctx.stages[1] for t in c.themes)
    theme_rows: list[list[Cell]] = [[label(t), n, pct(n, s1)] for t, n in sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))]
    no_theme = sum(not c.themes for c in ctx.stages[1])
    theme_rows.append(["(no theme recorded)", no_theme, pct(no_theme, s1)])
    theme_table = Table(
        "complaints_by_theme",
        "Stage 1 complaints by theme",
        "Stage 1 complaints received in the range with each theme, and the share of all stage 1 complaints. A complaint "
        "can have several themes, so the shares can add up to more than 100%.",
        ["theme", "stage 1", "stage 1 %"],
        theme_rows,
        Chart("bars", 0, [1], "Stage 1 complaints by theme", max_rows=10),
    )
    reopened_rows: list[list[Cell]] = []
    for stage in (1, 2):
        group = ctx.stages[stage]
        reopened_rows.append(
            [f"stage {stage}", len(group), sum(c.reopenings > 0 for c in group), sum(c.reopenings for c in group)]
        )
    reopened_table = Table(
        "reopened",
        "Reopened complaints",
        "Complaints received in the range, each counted once however often it was reopened; how many were reopened at the "
        "same stage (store: a second 'received' event at that stage on the case; register: the same reference recorded "
        "again at that stage); and the reopenings in all.",
        ["stage", "complaints (counted once)", "complaints reopened", "reopenings"],
        reopened_rows,
    )
    from triage.cases.history import REFUSAL_REASONS

    refusal_rows: list[list[Cell]] = [[key, meaning, ctx.inputs.refusals.get(key, 0)] for key, meaning in REFUSAL_REASONS.items()]
    refusal_rows += [
        [key, "(not a Code exclusion)", n] for key, n in sorted(ctx.inputs.refusals.items()) if key not in REFUSAL_REASONS
    ]
    refusal_rows.append(["Total", "", sum(ctx.inputs.refusals.values())])
    refusals_table = Table(
        "refusals",
        "Complaints refused, by reason",
        "Complaints the landlord declined to accept in the range ('refused' case events), by the Code's exclusion given "
        "as the reason (Code section 2). A register records no refusals: these come from the store.",
        ["reason", "meaning", "refused"],
        refusal_rows,
    )
    notes = []
    if not ctx.inputs.complaints:
        notes.append(
            "No complaint stages are recorded: the store has no case events in the range (record them with the case "
            "commands) and no register was given (--register)."
        )
    return Section(
        "complaints",
        "Complaints by stage, service area and theme",
        "Formal complaints under the Complaint Handling Code's two stages.",
        [stage_table, area_table, theme_table, reopened_table, refusals_table],
        notes,
    )


def trends(ctx: Context) -> Section:
    n = len(ctx.periods)
    totals = [ctx.inputs.complaint_contacts.get(i, 0) for i in range(n)]
    seen = {t for _, t in ctx.inputs.theme_counts}
    themes = [t for t in THEMES if t in seen] + sorted(seen - set(THEMES))
    series = {t: [ctx.inputs.theme_counts.get((i, t), 0) for i in range(n)] for t in themes}
    results = theme_trends(series, totals)
    rows: list[list[Cell]] = []
    for t in sorted(themes, key=lambda t: (-sum(series[t]), t)):
        r = results[t]
        p_holm = round(r.adjusted_p, 4) if r.adjusted_p is not None else None
        rows.append(
            [label(t), r.direction, *series[t], sum(series[t]), pct(series[t][-1], totals[-1]), r.expected, p_holm, r.reason]
        )
    rows.append(["All complaint contacts", "", *totals, sum(totals), None, None, None, ""])
    columns = [
        "theme",
        "trend",
        *[p.label for p in ctx.periods],
        "total",
        "latest %",
        "latest expected",
        "p (Holm)",
        "not tested because",
    ]
    chart = (
        Chart("lines", 0, list(range(2, n + 2)), "Complaint contacts by theme, six largest themes", max_rows=6)
        if themes
        else None
    )
    table = Table(
        "theme_trends",
        "Theme trends",
        f"Complaint contacts with each theme, per period. Trend: {TEST_NAME}; marked rising or falling when the adjusted "
        f"p-value is below {ALPHA}. Not tested with fewer than {MIN_HISTORY_PERIODS} earlier periods, fewer than "
        f"{MIN_HISTORY_COUNT} earlier complaints with the theme, or fewer than {MIN_LATEST_COUNT} in the latest period "
        "(observed and expected). 'latest expected' is the count the earlier periods' share predicts for the latest period.",
        columns,
        rows,
        chart,
    )
    return Section(
        "trends",
        "Theme trends",
        "What complaints are about, period by period, and which themes are rising or falling against their own history.",
        [table],
    )


def outcomes(ctx: Context) -> Section:
    rows: list[list[Cell]] = []
    for basis in (ctx.basis, *[b for b in BASES if b != ctx.basis]):
        for stage in (1, 2):
            counted = ctx.counted(stage, basis)
            counts = Counter(c.outcome for c in counted)
            known = sum(counts[o] for o in OUTCOMES)
            whole = known if basis == "responded" else len(counted)
            row: list[Cell] = [f"stage {stage}", basis, len(counted)]
            for o in OUTCOMES:
                row += [counts[o], pct(counts[o], whole)]
            row.append(len(counted) - known)
            rows.append(row)
    columns = ["stage", "basis", "counted"]
    for o in OUTCOMES:
        columns += [label(o).lower(), f"{label(o).lower()} %"]
    columns.append("outcome not recorded")
    table = Table(
        "outcomes",
        "Complaint outcomes",
        f"{OUTCOMES_DEFINITION} The headline basis ({ctx.basis}) comes first.",
        columns,
        rows,
    )
    return Section("outcomes", "Outcomes", "Whether complaints were upheld, where the outcome is known.", [table])


def timescales(ctx: Context) -> Section:
    rows: list[list[Cell]] = []
    for basis in (ctx.basis, *[b for b in BASES if b != ctx.basis]):
        for stage in (1, 2):
            counted, strict, extended, pct_ext, pct_strict, agreed = _ch02(ctx, stage, basis)
            days = RULES[f"stage{stage}_respond"].working_days
            rows.append([f"stage {stage} ({days} working days)", basis, counted, strict, pct_strict, extended, pct_ext, agreed])
    table = Table(
        "ch02_timescales",
        "CH02: responses within Code timescales",
        CH02_DEFINITION,
        [
            "stage",
            "basis",
            "counted",
            "within, no extension",
            "within, no extension %",
            "within, with agreed extensions",
            "within, with agreed extensions % (CH02)",
            "extensions agreed",
        ],
        rows,
    )
    ack_rows: list[list[Cell]] = []
    for stage in (1, 2):
        group = ctx.stages[stage]
        on_time = sum(c.acknowledged is not None and c.acknowledged <= _ack_by(c, ctx.nation) for c in group)
        missing = sum(c.acknowledged is None for c in group)
        days = RULES[f"stage{stage}_acknowledge"].working_days
        ack_rows.append([f"stage {stage} ({days} working days)", len(group), on_time, pct(on_time, len(group)), missing])
    acknowledgements = Table(
        "acknowledgements",
        "Acknowledgements within Code timescales",
        f"Complaints received in the range (stage 2: escalations requested) acknowledged within "
        f"{RULES['stage1_acknowledge'].working_days} working days (Code {RULES['stage1_acknowledge'].code}, "
        f"{RULES['stage2_acknowledge'].code}), as a share of all of them; those with no acknowledgement recorded count "
        "as not within.",
        ["stage", "received", "acknowledged within", "acknowledged within %", "no acknowledgement recorded"],
        ack_rows,
    )
    homes = ctx.homes
    ch01_rows: list[list[Cell]] = [[f"stage {s}", len(ctx.stages[s]), homes, per_1000(len(ctx.stages[s]), homes)] for s in (1, 2)]
    ch01 = Table(
        "ch01_per_1000_homes",
        "CH01: complaints per 1,000 homes",
        CH01_DEFINITION,
        ["stage", "complaints", "homes", "per 1,000 homes"],
        ch01_rows,
    )
    notes = [] if homes else ["CH01 needs the stock size: give --homes N (or homes = N in the pipeline file)."]
    return Section("timescales", "Code timescales and complaints per 1,000 homes", "", [acknowledgements, table, ch01], notes)


def _ack_by(c: ComplaintStage, nation: str) -> date:
    return _acknowledge_by(c.stage, c.received, nation)


@functools.cache
def _acknowledge_by(stage: int, received: date, nation: str) -> date:
    return stage_deadlines(stage, received, None, nation).acknowledge_by


def flags(ctx: Context) -> Section:
    ghost = sorted(
        ((rule, area, n) for (kind, rule, area), n in ctx.inputs.flag_counts.items() if kind == "ghost_stage"),
        key=lambda x: (-x[2], x[0], x[1]),
    )
    ghost_rows: list[list[Cell]] = [[rule, _code(rule), area or "(no queue)", n] for rule, area, n in ghost]
    ghost_rows.append(["All ghost-stage flags", "", "", sum(r[3] for r in ghost_rows)])  # type: ignore[misc]
    ghost_table = Table(
        "ghost_stages",
        "Ghost-stage flags by rule and service area",
        "Flags raised on contacts received in the range that a complaint may be handled outside the two formal stages "
        "(Code 5.2, 5.3), by the rule that raised them and the service-area queue. A flag is a reason to look, not a verdict. "
        f"Contacts with at least one: {ctx.inputs.flagged_contacts.get('ghost_stage', 0)}.",
        ["rule", "Code", "service area", "flags"],
        ghost_rows,
    )
    other = Counter()
    for (kind, rule, _area), n in ctx.inputs.flag_counts.items():
        if kind in ("vulnerability", "hazard", "survey_dissatisfaction"):
            other[(kind, rule)] += n
    care_rows: list[list[Cell]] = [[kind, rule, _code(rule), n] for (kind, rule), n in sorted(other.items())]
    for kind in ("vulnerability", "hazard", "survey_dissatisfaction"):
        care_rows.append([kind, "(contacts with any)", "", ctx.inputs.flagged_contacts.get(kind, 0)])
    care_table = Table(
        "vulnerability_hazards",
        "Vulnerability and hazard flags",
        "Contacts received in the range flagged as from a possibly vulnerable household (Code 5.10, 6.1), as reporting a "
        "possible hazard (Awaab's Law: emergency hazards, damp and mould), or as a negative survey answer (Code 1.6).",
        ["flag", "rule", "Code", "contacts"],
        care_rows,
    )
    breaches = sorted(
        ((rule, n) for (kind, rule), n in ctx.inputs.case_flags.items() if kind == "deadline"), key=lambda x: (-x[1], x[0])
    )
    breach_table = Table(
        "deadline_breaches",
        "Code deadline breaches on cases",
        "Cases (not merged away) with an event in the range on which the case rules found a Code deadline missed: "
        "acknowledgement late (Code 6.2, 6.11), response late (6.3, 6.14), extension longer than the Code allows (6.4, 6.15).",
        ["rule", "Code", "cases"],
        [[rule, _code(rule), n] for rule, n in breaches],
    )
    notes = []
    if not ctx.inputs.flags_known:
        notes.append("A register records no flags: vulnerability, hazard and deadline-breach counts come from the store only.")
    return Section(
        "flags", "Ghost stages, deadline breaches, vulnerability and hazards", "", [ghost_table, breach_table, care_table], notes
    )


def _code(rule: str) -> str:
    if rule == "recorded_informal_stage":
        return "5.2, 5.3"
    return FLAG_RULES[rule][1] if rule in FLAG_RULES else ""


def excerpts(ctx: Context) -> Section:
    totals = Counter()
    for (_, theme), n in ctx.inputs.theme_counts.items():
        totals[theme] += n
    rows: list[list[Cell]] = []
    for theme, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_THEMES]:
        chosen = []
        for text in ctx.inputs.excerpts.get(theme, []):
            short = shorten(redact(text))
            if short and short not in chosen:
                chosen.append(short)
            if len(chosen) == EXCERPTS_PER_THEME:
                break
        rows += [[label(theme), i + 1, text] for i, text in enumerate(chosen)]
    table = Table(
        "excerpts",
        "Examples from the top themes",
        f"Up to {EXCERPTS_PER_THEME} recent complaint contacts for each of the {TOP_THEMES} largest themes, shortened to "
        f"about {EXCERPT_CHARS} characters, with names, email addresses, phone numbers, street addresses, postcodes and "
        "reference numbers replaced ([NAME], [EMAIL], [PHONE], [ADDRESS], [POSTCODE], [REF]).",
        ["theme", "example", "excerpt"],
        rows,
    )
    return Section("excerpts", "What residents said", "", [table])


def shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-") + " …"


def bad_rows(ctx: Context) -> Section:
    rows: list[list[Cell]] = [
        [b["row"], b["reference"] or "", b.get("column", ""), b.get("value", ""), b["reason"]]  # type: ignore[list-item]
        for b in ctx.inputs.bad_rows
    ]
    table = Table(
        "register_problems",
        "Register rows with problems",
        "Rows of the register that could not be read in full: the row number in the file, the column, the value found and "
        "what is accepted. Rows with no usable received date, category or stage are left out of every figure; rows with "
        "another problem are counted without the field named.",
        ["row", "reference", "column", "value", "problem"],
        rows,
    )
    return Section("data", "Data quality", "", [table], list(ctx.inputs.notes))


def learning(ctx: Context) -> Section:
    """Learning outcomes and commitments (issue 8), from ``triage.learning.figures`` over the
    report's whole range; the theme table's complaints are this report's stage 1 complaints."""
    from triage.learning.figures import figures_from

    title = "Learning from complaints"
    if ctx.inputs.learning is None:
        note = "A register holds no learning outcomes or commitments: report over the store to include them."
        return Section("learning", title, "", [], [note])
    start, end = ctx.periods[0].start, ctx.periods[-1].end
    figures = figures_from(
        ctx.inputs.learning,
        start,
        end,
        complaints=Counter(t for c in ctx.stages[1] for t in c.themes),
        complaints_counted="stage 1 complaints received in the report's range, as in the complaints section",
        nation=ctx.nation,
        as_at=ctx.as_at,
    )
    figures.by_theme.rows = [[label(str(row[0])), *row[1:]] for row in figures.by_theme.rows]
    intro = (
        "What complaints taught (learning outcomes recorded with triage learning or imported from a learning log) and "
        "what complaint responses promised (commitments), over the report's whole range and beside the previous range "
        "of the same length."
    )
    return Section("learning", title, intro, figures.tables())


SECTIONS: list[Callable[[Context], Section]] = [
    headline,
    volumes,
    complaints,
    trends,
    outcomes,
    timescales,
    flags,
    learning,
    excerpts,
    bad_rows,
]


def compute(
    inputs: Inputs,
    *,
    by: str = "month",
    homes: int | None = None,
    nation: str = "england",
    title: str | None = None,
    basis: str = "responded",
    as_at: date | None = None,
) -> Report:
    """The whole report, computed once. ``basis`` (responded, the TSM's, or received) chooses the
    headline CH02 and outcome figures; ``as_at`` (default today) the day learning outcomes
    implemented "to date" are counted to."""
    if basis not in BASES:
        from triage.errors import InputError

        raise InputError(f"--basis {basis!r}: use responded (the TSM CH02 basis) or received.")
    ctx = Context(inputs, by, homes, nation, basis, as_at or date.today())
    sections = [build(ctx) for build in SECTIONS]
    start, end = inputs.periods[0].start, inputs.periods[-1].end
    return Report(
        title=title or f"Complaints and service improvement report, {start:%-d %B %Y} to {end:%-d %B %Y}",
        start=start,
        end=end,
        by=by,
        sources=inputs.sources,
        generated_at=datetime.now().astimezone(),
        figures=ctx.figures,
        sections=sections,
        definitions=definitions(),
    )


def definitions() -> dict[str, Any]:
    return {
        "CH01": CH01_DEFINITION,
        "CH02": CH02_DEFINITION,
        "trend_test": TEST_NAME,
        "trend_alpha": ALPHA,
        "trend_minimums": {
            "earlier_periods": MIN_HISTORY_PERIODS,
            "earlier_count": MIN_HISTORY_COUNT,
            "latest_count_or_expected": MIN_LATEST_COUNT,
        },
        "period_boundaries": "UK local midnights (Europe/London); a range's first and last periods may be part periods.",
    }
